// Progressive enhancement for the upload forms: preview, optional live camera, and in-browser downscaling
// (canvas → JPEG, longest side ≤ 1600 px) so phones do not upload 12-megapixel originals.
// Without JavaScript the plain file input (with capture="environment") still works.
(function () {
  "use strict";
  var MAX_SIDE = 1600;
  // A photo this small in pixels can still be large in bytes (a high-quality or padded JPEG): re-encode it too.
  var MAX_BYTES = 4 * 1024 * 1024;
  // The photo formats the site and the service decode (skin_models.imaging.ACCEPTED_FORMATS). Anything else — an
  // SVG drawing above all, which a canvas would happily rasterise into a "too dark" photo — is refused here.
  var PHOTO_TYPES = /^image\/(jpeg|png|webp|bmp|tiff|gif)$/;
  var form = document.getElementById("upload-form");
  var input = document.getElementById("image");
  if (!form || !input || !window.FileReader) { return; }
  var preview = document.getElementById("preview");
  var previewImg = document.getElementById("preview-img");
  var caption = document.getElementById("preview-caption");
  // Texts in the page's language, from data-text-* attributes the template fills from the message catalogue.
  function t(name, fallback) { return form.getAttribute("data-text-" + name) || fallback; }
  var canSwapFiles = typeof DataTransfer === "function";

  function setFile(blob, name) {
    if (!canSwapFiles) { return false; }
    try {
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
      input.files = transfer.files;
      return true;
    } catch (e) { return false; }
  }

  function showPreview(blob, text) {
    if (!preview || !previewImg) { return; }
    previewImg.src = URL.createObjectURL(blob);
    if (caption) { caption.textContent = text; }
    preview.hidden = false;
  }

  function downscale(source, width, height, done) {
    var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) { done(blob, canvas.width, canvas.height); }, "image/jpeg", 0.9);
  }

  function refuse(text) {
    input.value = "";
    if (preview) { preview.hidden = false; }
    if (previewImg) { previewImg.removeAttribute("src"); previewImg.hidden = true; }
    if (caption) { caption.textContent = text; caption.setAttribute("role", "alert"); }
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) { return; }
    if (file.type && !PHOTO_TYPES.test(file.type)) {
      refuse(t("not-photo", "This file is not a photo. Choose a JPEG, PNG or WebP photo of the spot."));
      return;
    }
    if (previewImg) { previewImg.hidden = false; }
    if (caption) { caption.removeAttribute("role"); }
    var img = new Image();
    img.onload = function () {
      if (Math.max(img.naturalWidth, img.naturalHeight) <= MAX_SIDE && file.type === "image/jpeg" &&
          file.size <= MAX_BYTES) {
        showPreview(file, img.naturalWidth + " × " + img.naturalHeight + " px");
        return;
      }
      downscale(img, img.naturalWidth, img.naturalHeight, function (blob, w, h) {
        if (blob && setFile(blob, "photo.jpg")) {
          showPreview(blob, w + " × " + h + " px " + t("shrunk", "(shrunk for upload)"));
        } else {
          showPreview(file, img.naturalWidth + " × " + img.naturalHeight + " px");
        }
      });
    };
    img.onerror = function () { if (preview) { preview.hidden = true; } };
    img.src = URL.createObjectURL(file);
  });

  form.addEventListener("submit", function () {
    var button = document.getElementById("analyse");
    if (button) { button.disabled = true; button.textContent = t("analysing", "Analysing…"); }
  });

  // Live camera (desktop browsers ignore capture="environment"; this gives them a camera too).
  var openButton = document.getElementById("camera-open");
  var camera = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  if (!openButton || !camera || !video || !canSwapFiles || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    return;
  }
  var stream = null;
  openButton.hidden = false;
  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    camera.hidden = true; openButton.hidden = false;
  }
  openButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1600 } }, audio: false })
      .then(function (s) {
        stream = s; video.srcObject = s; video.play(); camera.hidden = false; openButton.hidden = true;
      })
      .catch(function () { openButton.textContent = t("no-camera", "Camera not available: choose a photo instead"); openButton.disabled = true; });
  });
  document.getElementById("camera-close").addEventListener("click", stop);
  document.getElementById("camera-shoot").addEventListener("click", function () {
    if (!video.videoWidth) { return; }
    downscale(video, video.videoWidth, video.videoHeight, function (blob, w, h) {
      if (blob && setFile(blob, "camera.jpg")) { showPreview(blob, w + " × " + h + " px " + t("from-camera", "from the camera")); }
      stop();
    });
  });
})();
