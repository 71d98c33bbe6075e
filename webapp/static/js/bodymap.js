// The body map in a form (templates/lesions/_site_picker.html): clicking a part of the body chooses its site in the
// form's select and, where the form keeps one, puts a pin where the click was (map_side, map_x, map_y: the view
// and fractions of its box). Parts are buttons: Tab to one and press Enter or Space to choose it (the pin then goes
// on the part's middle). Choosing from the select by hand takes the pin away. Without JavaScript the map stays
// hidden and the select works as before.
(function () {
  "use strict";
  var WIDTH = 200, HEIGHT = 440;  // one view's box (webapp/lesions/bodymap.py)

  function setUp(picker) {
    var select = document.getElementById(picker.getAttribute("data-select"));
    var form = picker.closest("form");
    if (!select || !form) { return; }
    var inputs = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[data-map]"), function (input) {
      inputs[input.getAttribute("data-map")] = input;
      // The stored pin travels with the form only where the map can keep it in step with the select: without
      // JavaScript the fields stay empty, so changing the site from the list never sends a pin of the old site.
      if (input.hasAttribute("data-stored")) { input.value = input.getAttribute("data-stored"); }
    });
    var svg = picker.querySelector("svg");
    var status = picker.querySelector(".bodymap-status");
    var parts = Array.prototype.slice.call(picker.querySelectorAll(".bodymap-part"));
    picker.hidden = false;

    function viewOf(element) { return element.closest(".bodymap-view"); }

    function mark(part) {
      parts.forEach(function (p) {
        var on = part ? p === part : p.getAttribute("data-site") === select.value;
        p.classList.toggle("chosen", on);
        p.setAttribute("aria-pressed", on && part ? "true" : "false");
      });
    }

    // SVG elements have no .hidden property: the attribute, styled in bodymap.css.
    function showMarker(view, x, y) {
      Array.prototype.forEach.call(picker.querySelectorAll(".bodymap-marker"), function (marker) {
        if (viewOf(marker) === view) {
          marker.removeAttribute("hidden");
          marker.setAttribute("transform", "translate(" + x.toFixed(1) + " " + y.toFixed(1) + ")");
        } else {
          marker.setAttribute("hidden", "");
        }
      });
    }

    function hideMarker() {
      Array.prototype.forEach.call(picker.querySelectorAll(".bodymap-marker"), function (m) {
        m.setAttribute("hidden", "");
      });
    }

    function choose(part, x, y) {
      var view = viewOf(part);
      select.value = part.getAttribute("data-site");
      if (inputs.side) {
        inputs.side.value = view.getAttribute("data-view");
        inputs.x.value = (x / WIDTH).toFixed(4);
        inputs.y.value = (y / HEIGHT).toFixed(4);
      }
      mark(part);
      showMarker(view, x, y);
      status.textContent = picker.getAttribute("data-text-chosen")
        .replace("{part}", part.getAttribute("aria-label")).replace("{view}", view.getAttribute("data-name"));
    }

    parts.forEach(function (part) {
      part.addEventListener("click", function (event) {
        var point = svg.createSVGPoint();
        point.x = event.clientX;
        point.y = event.clientY;
        var matrix = viewOf(part).getScreenCTM();
        var local = matrix && event.detail > 0 ? point.matrixTransform(matrix.inverse()) : null;
        if (local && part.isPointInFill && !part.isPointInFill(local)) { local = null; }
        // A click from the keyboard (detail 0) or off the fill: the part's middle.
        choose(part, local ? local.x : parseFloat(part.getAttribute("data-ax")),
               local ? local.y : parseFloat(part.getAttribute("data-ay")));
      });
      part.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
          event.preventDefault();
          choose(part, parseFloat(part.getAttribute("data-ax")), parseFloat(part.getAttribute("data-ay")));
        }
      });
    });

    select.addEventListener("change", function () {
      if (inputs.side) { inputs.side.value = ""; inputs.x.value = ""; inputs.y.value = ""; }
      hideMarker();
      mark(null);
      status.textContent = select.value ? picker.getAttribute("data-text-cleared") : "";
    });

    // A pin the form already holds (the lesion's own, or a form shown again with its errors).
    if (inputs.side && inputs.side.value && inputs.x.value && inputs.y.value) {
      var x = parseFloat(inputs.x.value) * WIDTH, y = parseFloat(inputs.y.value) * HEIGHT;
      var view = picker.querySelector('.bodymap-view[data-view="' + inputs.side.value + '"]');
      var here = view && parts.filter(function (p) {
        if (viewOf(p) !== view || p.getAttribute("data-site") !== select.value || !p.isPointInFill) { return false; }
        var point = svg.createSVGPoint();
        point.x = x;
        point.y = y;
        return p.isPointInFill(point);
      })[0];
      if (view) { showMarker(view, x, y); }
      mark(here || null);
    } else {
      mark(null);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll(".bodymap-picker"), setUp);
}());
