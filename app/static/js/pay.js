// Card payment with Stripe.js: the card goes to Stripe, never to our server.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  card.on("change", function (event) {
    errors.textContent = event && event.error ? event.error.message : "";
  });
  form.addEventListener("submit", function (submit) {
    submit.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, {
      payment_method: { card: card, billing_details: { name: form.dataset.name } }
    }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || "The payment did not go through.";
        button.disabled = false;
      } else {
        window.location.assign(form.dataset.returnUrl);
      }
    }, function () {
      errors.textContent = "We could not reach the payment provider. Please try again.";
      button.disabled = false;
    });
  });
})();
