// 有德之士工作台 — the console's only script, a progressive enhancement: a preview of a chosen
// photo before it is uploaded. Every form works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[type=file][accept^='image']").forEach(function (input) {
    var preview = document.createElement("img");
    preview.className = "preview";
    preview.alt = "所选照片的预览";
    preview.hidden = true;
    input.insertAdjacentElement("afterend", preview);
    input.addEventListener("change", function () {
      if (preview.src) URL.revokeObjectURL(preview.src);
      var file = input.files && input.files[0];
      if (file && /^image\/(jpeg|png|webp)$/.test(file.type)) {
        preview.src = URL.createObjectURL(file);
        preview.hidden = false;
      } else {
        preview.removeAttribute("src");
        preview.hidden = true;
      }
    });
  });
});
