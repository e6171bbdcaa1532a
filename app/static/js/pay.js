// Paying with Stripe.js: card details (or the wallet's approval) go to Stripe, never to our
// server. CNY projects offer Alipay (a redirect to Alipay and back to the return page) and
// WeChat Pay (a QR code dialog) beside the card; the PaymentIntent allows all of them.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  var cardFields = document.getElementById("card-fields");
  // The card's label names a group of Stripe's fields, not one input: clicking it goes to the
  // first of them, as a label's click would.
  var cardLabel = document.getElementById("card-label");
  if (cardLabel) { cardLabel.addEventListener("click", function () { card.focus(); }); }
  var secret = form.dataset.clientSecret;
  var returnUrl = form.dataset.returnUrl;
  // What to say, in the page's language (the server translates; see pledges/pay.html).
  var MESSAGES = JSON.parse(form.dataset.messages || "{}");
  var WALLET_FAILED = MESSAGES.wallet_failed || {};

  function chosen() {
    var checked = form.querySelector("input[name=payment_method]:checked") ||
                  form.querySelector("input[name=payment_method]");
    return checked ? checked.value : "card";
  }

  function showChoice() {
    cardFields.hidden = chosen() !== "card";
    errors.textContent = "";
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[name=payment_method]"), function (input) {
    input.addEventListener("change", showChoice);
  });
  showChoice();

  card.on("change", function (event) {
    if (chosen() === "card") {
      errors.textContent = event && event.error ? event.error.message : "";
    }
  });

  function confirm(method) {
    if (method === "alipay") {
      // Resolves only on an error: otherwise the browser is on its way to Alipay.
      return stripe.confirmAlipayPayment(secret, { return_url: returnUrl });
    }
    if (method === "wechat_pay") {
      return stripe.confirmWechatPayPayment(secret, {
        payment_method_options: { wechat_pay: { client: "web" } }
      });
    }
    return stripe.confirmCardPayment(secret, {
      payment_method: { card: card, billing_details: { name: form.dataset.name } }
    });
  }

  function failure(method, error) {
    if (error.code === "payment_intent_payment_attempt_failed" && WALLET_FAILED[method]) {
      return WALLET_FAILED[method];
    }
    return error.message || MESSAGES.failed;
  }

  form.addEventListener("submit", function (submit) {
    submit.preventDefault();
    var method = chosen();
    button.disabled = true;
    errors.textContent = "";
    confirm(method).then(function (result) {
      if (result.error) {
        errors.textContent = failure(method, result.error);
        button.disabled = false;
      } else {
        window.location.assign(returnUrl);
      }
    }, function () {
      errors.textContent = MESSAGES.unreachable;
      button.disabled = false;
    });
  });
})();
