// The overlay of two photos of a spot (templates/lesions/_compare.html): the earlier photo lies over the later one
// and is cut off at the slider's value, so the line between them moves with the slider. The slider is a plain
// <input type="range">: arrow keys, Home/End, Page Up/Down and touch work as for any slider; dragging on the
// photos moves it too. Styles are set through the CSSOM, which the site's CSP (style-src 'self') allows.
(function () {
  "use strict";
  var overlay = document.getElementById("compare-overlay");
  var slider = document.getElementById("compare-slider");
  var top = document.getElementById("compare-top");
  var divider = document.getElementById("compare-divider");
  var stage = document.getElementById("compare-stage");
  if (!overlay || !slider || !top || !divider || !stage) { return; }
  var valuetext = overlay.getAttribute("data-valuetext") || "{earlier} / {later}";

  function update() {
    var value = Math.max(0, Math.min(100, Number(slider.value)));
    top.style.clipPath = "inset(0 " + (100 - value) + "% 0 0)";
    divider.style.left = value + "%";
    slider.setAttribute("aria-valuetext",
      valuetext.replace("{earlier}", value + " %").replace("{later}", (100 - value) + " %"));
  }

  function moveTo(clientX) {
    var box = stage.getBoundingClientRect();
    if (box.width <= 0) { return; }
    slider.value = String(Math.round(100 * (clientX - box.left) / box.width));
    update();
  }

  var dragging = false;
  stage.addEventListener("pointerdown", function (event) {
    dragging = true;
    if (stage.setPointerCapture) { stage.setPointerCapture(event.pointerId); }
    moveTo(event.clientX);
  });
  stage.addEventListener("pointermove", function (event) { if (dragging) { moveTo(event.clientX); } });
  stage.addEventListener("pointerup", function () { dragging = false; });
  stage.addEventListener("pointercancel", function () { dragging = false; });
  slider.addEventListener("input", update);
  overlay.hidden = false;
  update();
}());
