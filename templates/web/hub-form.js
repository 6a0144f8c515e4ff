/* hub web form: posts a form marked data-hub-form without leaving the page and shows the
   answer in its [data-hub-form-status] element. Without this script the form posts normally. */
(function () {
  "use strict";
  function attach(form) {
    var status = form.querySelector("[data-hub-form-status]");
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.URLSearchParams) { return; }
      event.preventDefault();
      var button = form.querySelector("[type=submit]");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form))
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (status) {
          status.textContent = answer.ok ? answer.body.message : answer.body.error.message;
        }
        if (answer.ok) { form.reset(); }
      }).catch(function () {
        if (status) { status.textContent = "Sorry, your request could not be sent. Please call us."; }
      }).then(function () {
        if (button) { button.disabled = false; }
      });
    });
  }
  function start() {
    var forms = document.querySelectorAll("form[data-hub-form]");
    for (var i = 0; i < forms.length; i++) { attach(forms[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
