// The browser's time zone (an IANA name such as "Asia/Seoul"), so that the site shows times in it
// (webapp/core/timezones.py): kept in the "tz" cookie for every page, and sent with the sign-up and log-in forms so
// that the account keeps it. Without JavaScript the site shows UTC and says so.
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var fields = document.querySelectorAll("input[data-browser-time-zone]");
  for (var i = 0; i < fields.length; i++) { fields[i].value = zone; }
  var firstVisit = !/(^|; )tz=/.test(document.cookie);
  if (document.cookie.split("; ").indexOf("tz=" + zone) === -1) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  }
  // A first visit was rendered before the site knew the zone (in UTC): say when the browser's zone applies, instead
  // of telling a reader in Seoul that times are in UTC from now on.
  var note = document.getElementById("time-zone-note");
  var text = note && note.getAttribute("data-text-first-visit");
  if (firstVisit && text && note.getAttribute("data-zone") === "UTC" && zone !== "UTC" && zone !== "Etc/UTC") {
    note.textContent = text.replace("{zone}", zone);
  }
}());
