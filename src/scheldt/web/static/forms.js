/* Ties a form's error to its field (an accessibility review: the error was announced nowhere
   near the field, and focus was left on the page): the field named by the error box's
   data-field is marked invalid and described by the box, and gets the focus; without such a
   field the box itself does. The page title says there is an error. */
(function () {
  "use strict";
  var box = document.querySelector(".alert-error[data-field]");
  if (!box) { return; }
  document.title = "Error: " + document.title;
  var name = (box.getAttribute("data-field") || "").replace(/^(body|query)\./, "");
  var field = null;
  if (/^[a-z_]+$/.test(name)) {
    // the form the error is about: the one in the error's own section (a trip page has three
    // forms with a "reason"), else any on the page
    var section = box.closest("form, section");
    var scope = section && section.querySelector("[name='" + name + "']") ? section : document;
    field = scope.querySelector("input[name='" + name + "']:not([type=hidden]), select[name='" + name + "'], textarea[name='" + name + "']");
  }
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", box.id);
    field.classList.add("invalid");
    field.focus();
  } else {
    box.focus();
  }
})();
