// Optional progressive enhancement; every page works without it.
// Selects marked data-autosubmit submit their form when changed.
document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
  s.addEventListener("change", function () { s.form.submit(); });
});
