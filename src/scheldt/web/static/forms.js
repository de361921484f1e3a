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
    // forms with a "reason"), else any in the page's content, never the menu's search box (a
    // review's queue filter error marked and focused the empty "container" box in the header)
    var section = box.closest("form, section");
    var scope = section && section.querySelector("[name='" + name + "']") ? section
      : (document.querySelector("main") || document);
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

/* A form on its way is not sent again by a second click or Enter (a web review sent one alert
   to partners three times): further submits of that form are dropped until the next page
   comes, or for 15 seconds if none does (a network failure leaves the form usable). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    if (form.getAttribute("data-sending")) { event.preventDefault(); return; }
    form.setAttribute("data-sending", "1");
    form.setAttribute("aria-busy", "true");
    window.setTimeout(function () { form.removeAttribute("data-sending"); form.removeAttribute("aria-busy"); }, 15000);
  });
  // a page shown again from the back-forward cache keeps its attributes: its forms are usable again
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      form.removeAttribute("data-sending");
      form.removeAttribute("aria-busy");
    });
  });
})();
