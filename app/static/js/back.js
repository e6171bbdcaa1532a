// The back form: choosing a reward starts the amount at its minimum, and the total with
// shipping to the chosen country is shown as the backer types (the server renders the same line without script).
(function () {
  "use strict";
  var form = document.getElementById("pledge-form");
  if (!form) { return; }
  var amount = form.querySelector("#amount");
  var total = document.getElementById("pledge-total");
  var factor = parseInt(form.dataset.factor, 10);
  var decimals = Math.round(Math.log10(factor));
  var format = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency", currency: form.dataset.currency
  });
  var lastMinimum = null;
  var country = form.querySelector("#shipping_country");
  var home = form.dataset.home;
  var europe = (form.dataset.europe || "").split(" ");
  // The same order as app/rewards/domain.py: the country's own rule, domestic, Europe, world.
  function fee(rules, code) {
    if (!code) { return null; }
    if (code in rules) { return rules[code]; }
    if (home && code === home && "domestic" in rules) { return rules.domestic; }
    if (europe.indexOf(code) >= 0 && "europe" in rules) { return rules.europe; }
    return "world" in rules ? rules.world : null;
  }

  function chosen() { return form.querySelector('input[name="tier_id"]:checked'); }
  function money(minor) { return format.format(minor / factor); }
  // The page's own words, translated by the server: "%(total)s" and the like filled in here.
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (whole, name) { return values[name]; });
  }
  function majorText(minor) { return (minor / factor).toFixed(decimals); }
  function parsed() {
    var text = amount.value.trim().replace(/,/g, "");
    if (!/^\d+(\.\d+)?$/.test(text)) { return null; }
    var parts = text.split(".");
    if (parts[1] && parts[1].length > decimals) { return null; }
    var frac = (parts[1] || "").padEnd(decimals, "0");
    return parseInt(parts[0], 10) * factor + (decimals ? parseInt(frac, 10) : 0);
  }
  // The add-ons chosen, each with its own shipping per item to the chosen country.
  function addons() {
    var sum = 0;
    form.querySelectorAll("input.addon-quantity").forEach(function (input) {
      var quantity = parseInt(input.value, 10);
      if (!(quantity > 0)) { return; }
      var each = parseInt(input.dataset.price, 10);
      each += fee(JSON.parse(input.dataset.shipping || "{}"), country.value) || 0;
      sum += quantity * each;
    });
    return sum;
  }
  function show() {
    var tier = chosen(), pledge = parsed();
    if (!tier || pledge === null) { total.textContent = ""; return; }
    var shipping = fee(JSON.parse(tier.dataset.shipping || "{}"), country.value) || 0;
    var extras = addons();
    if (extras) {
      total.textContent = fill(form.dataset.totalAddonsText, {
        total: money(pledge + shipping + extras), pledge: money(pledge),
        addons: money(extras), shipping: money(shipping)
      });
      return;
    }
    total.textContent = shipping
      ? fill(form.dataset.totalShippingText,
             { total: money(pledge + shipping), pledge: money(pledge), shipping: money(shipping) })
      : fill(form.dataset.totalText, { total: money(pledge) });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "tier_id") {
      var minimum = parseInt(event.target.dataset.minimum, 10);
      var typed = parsed();
      if (typed === null || typed === lastMinimum || typed < minimum) { amount.value = majorText(minimum); }
      lastMinimum = minimum;
    }
    show();
  });
  amount.addEventListener("input", show);
  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("addon-quantity")) { show(); }
  });
  var tier = chosen();
  if (tier) { lastMinimum = parseInt(tier.dataset.minimum, 10); }
  show();
})();
