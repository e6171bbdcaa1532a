// fakestripe's stand-in for https://js.stripe.com/v3/: Stripe(pk), a card Element made of five
// plain inputs, createToken, createPaymentMethod, confirmCardPayment and confirmCardSetup (with a
// fake 3-D Secure dialog), confirmAlipayPayment (redirects to the fake's Alipay page) and
// confirmWechatPayPayment (a QR code dialog), answering with the same promise shapes as the real
// library.
(function () {
  'use strict';

  // The API lives where this script was served from.
  const API = document.currentScript.src.replace(/\/js\.stripe\.com\/v3\/?(\?.*)?$/, '');
  const FIELDS = ['number', 'exp_month', 'exp_year', 'cvc', 'postal_code'];
  const SIZES = {number: 16, exp_month: 2, exp_year: 2, cvc: 3, postal_code: 5};
  // Each input's accessible name, as the real card Element names its fields.
  const LABELS = {number: 'Card number', exp_month: 'Expiration month (MM)',
                  exp_year: 'Expiration year (YY)', cvc: 'CVC', postal_code: 'ZIP'};

  function formBody(params) {
    const body = new URLSearchParams();
    (function add(value, name) {
      if (value === undefined || value === null) return;
      if (typeof value === 'object') {
        Object.keys(value).forEach(k => add(value[k], name ? `${name}[${k}]` : k));
      } else {
        body.append(name, String(value));
      }
    })(params, '');
    return body;
  }

  // Form-encoded bodies and no custom headers: a "simple" request, so no CORS preflight.
  async function post(path, params) {
    try {
      const response = await fetch(API + path, {method: 'POST', body: formBody(params)});
      const body = await response.json().catch(() => ({}));
      if (!response.ok || body.error) {
        return {error: body.error || {type: 'api_error', message: `HTTP ${response.status}`}};
      }
      return {body};
    } catch (err) {
      return {error: {type: 'api_connection_error', message: String(err.message || err)}};
    }
  }

  function luhn(number) {
    let sum = 0;
    for (let i = 0; i < number.length; i++) {
      let d = Number(number[number.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  }

  class CardElement {
    constructor(group) {
      this._group = group;
      this._handlers = {};
      this._inputs = null;
    }

    mount(target) {
      const parent = typeof target === 'string' ? document.querySelector(target) : target;
      if (!(parent instanceof window.Element)) {
        throw new Error('Invalid DOM element. Make sure to call mount() with a valid DOM ' +
                        'element or selector.');
      }
      if (this._inputs) throw new Error('This Element is already mounted.');
      this._inputs = {};
      FIELDS.forEach(field => {
        const input = document.createElement('input');
        input.type = 'text';
        input.placeholder = field;
        input.setAttribute('aria-label', LABELS[field]);
        input.size = SIZES[field];
        input.autocomplete = 'off';
        input.addEventListener('input', () => this._emit('change', this._state()));
        input.addEventListener('focus', () => this._emit('focus', {elementType: 'card'}));
        input.addEventListener('blur', () => this._emit('blur', {elementType: 'card'}));
        this._inputs[field] = input;
        parent.appendChild(input);
      });
      setTimeout(() => this._emit('ready', {elementType: 'card'}), 0);
    }

    unmount() {
      if (this._inputs) FIELDS.forEach(field => this._inputs[field].remove());
      this._inputs = null;
    }

    destroy() {
      this.unmount();
      if (this._group._card === this) this._group._card = null;
    }

    on(event, handler) {
      (this._handlers[event] = this._handlers[event] || []).push(handler);
      return this;
    }

    off(event, handler) {
      this._handlers[event] = (this._handlers[event] || []).filter(h => h !== handler);
      return this;
    }

    focus() { if (this._inputs) this._inputs.number.focus(); }
    blur() { if (this._inputs) document.activeElement.blur(); }
    update() {}

    clear() {
      if (this._inputs) FIELDS.forEach(field => { this._inputs[field].value = ''; });
    }

    _emit(event, payload) {
      (this._handlers[event] || []).forEach(handler => handler(payload));
    }

    _values() {
      const values = {};
      FIELDS.forEach(field => {
        values[field] = this._inputs ? this._inputs[field].value.replace(/\s+/g, '') : '';
      });
      return values;
    }

    // The object real Stripe.js passes to 'change' handlers.
    _state() {
      const v = this._values();
      const month = Number(v.exp_month);
      let error;
      if (/\D/.test(v.number) || (v.number.length >= 16 && !luhn(v.number))) {
        error = {type: 'validation_error', code: 'invalid_number',
                 message: 'Your card number is invalid.'};
      } else if (v.exp_month && !(month >= 1 && month <= 12)) {
        error = {type: 'validation_error', code: 'invalid_expiry_month',
                 message: "Your card's expiration date is invalid."};
      }
      const complete = !error && v.number.length === 16 && month >= 1 && month <= 12 &&
        /^\d{2}$/.test(v.exp_year) && /^\d{3,4}$/.test(v.cvc) && v.postal_code !== '';
      return {
        elementType: 'card',
        empty: FIELDS.every(field => v[field] === ''),
        complete,
        error,
        brand: v.number.startsWith('4') ? 'visa' : 'unknown',
        value: {postalCode: v.postal_code},
      };
    }

    _card() {
      const v = this._values();
      const year = v.exp_year.length === 2 ? '20' + v.exp_year : v.exp_year;
      return {number: v.number, exp_month: v.exp_month, exp_year: year, cvc: v.cvc};
    }

    _billingDetails(details) {
      const result = Object.assign({}, details || {});
      result.address = Object.assign({}, result.address || {});
      if (!result.address.postal_code && this._values().postal_code) {
        result.address.postal_code = this._values().postal_code;
      }
      return result;
    }
  }

  // The fake 3-D Secure page: resolves true for "Complete", false for "Fail".
  function authenticationDialog() {
    return new Promise(resolve => {
      const overlay = document.createElement('div');
      overlay.setAttribute('role', 'dialog');
      overlay.setAttribute('aria-label', '3D Secure authentication');
      overlay.setAttribute('aria-modal', 'true');
      overlay.className = 'fakestripe-3ds';
      Object.assign(overlay.style, {
        position: 'fixed', inset: '0', background: 'rgba(0,0,0,0.4)', display: 'flex',
        alignItems: 'center', justifyContent: 'center', zIndex: '2147483647',
      });
      const box = document.createElement('div');
      Object.assign(box.style, {background: '#fff', padding: '20px', borderRadius: '6px',
                                textAlign: 'center', fontFamily: 'sans-serif'});
      const text = document.createElement('p');
      text.textContent = '3D Secure test authentication: complete or fail this payment?';
      box.appendChild(text);
      [['Complete authentication', true], ['Fail authentication', false]].forEach(
        ([label, ok]) => {
          const button = document.createElement('button');
          button.type = 'button';
          button.textContent = label;
          button.style.margin = '0 6px';
          button.addEventListener('click', () => { overlay.remove(); resolve(ok); });
          box.appendChild(button);
        });
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      box.querySelector('button').focus();  // as the real challenge frame takes the focus
    });
  }

  // The WeChat Pay QR code dialog: the customer would scan it; here they choose. True for
  // "Authorize test payment", false for "Fail test payment".
  function wechatPayDialog(qr) {
    return new Promise(resolve => {
      const overlay = document.createElement('div');
      overlay.className = 'fakestripe-wechat-pay';
      Object.assign(overlay.style, {
        position: 'fixed', inset: '0', background: 'rgba(0,0,0,0.5)', display: 'flex',
        alignItems: 'center', justifyContent: 'center', zIndex: '2147483647',
      });
      const box = document.createElement('div');
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-labelledby', 'fakestripe-wechat-pay-title');
      Object.assign(box.style, {background: '#fff', color: '#1a1f36', padding: '20px 24px',
                                borderRadius: '8px', textAlign: 'center', maxWidth: '22rem',
                                width: 'calc(100% - 32px)', boxSizing: 'border-box',
                                fontFamily: 'system-ui, sans-serif'});
      const title = document.createElement('h2');
      title.id = 'fakestripe-wechat-pay-title';
      title.textContent = 'Pay with WeChat Pay';
      Object.assign(title.style, {fontSize: '1.2rem', margin: '0 0 8px'});
      const image = document.createElement('img');
      image.src = qr.image_data_url;
      image.alt = 'WeChat Pay QR code (test mode)';
      image.width = 200;
      image.height = 200;
      Object.assign(image.style, {display: 'block', margin: '0 auto 8px',
                                  imageRendering: 'pixelated'});
      const text = document.createElement('p');
      text.textContent = 'Test mode: scanning does nothing. Authorize or fail this payment ' +
                         'as the customer would in the WeChat app.';
      Object.assign(text.style, {fontSize: '0.9rem', color: '#545969', margin: '0 0 12px'});
      const actions = document.createElement('div');
      Object.assign(actions.style, {display: 'flex', gap: '8px', flexWrap: 'wrap'});
      let first;
      [['Authorize test payment', true], ['Fail test payment', false]].forEach(([label, ok]) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = label;
        Object.assign(button.style, {flex: '1 1 8rem', padding: '8px 12px', borderRadius: '6px',
                                     font: 'inherit', cursor: 'pointer',
                                     border: ok ? '1px solid #07883a' : '1px solid #c0c8d2',
                                     background: ok ? '#07883a' : '#fff',
                                     color: ok ? '#fff' : '#1a1f36'});
        button.addEventListener('click', () => { overlay.remove(); resolve(ok); });
        actions.appendChild(button);
        first = first || button;
      });
      box.append(title, image, text, actions);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      first.focus();
    });
  }

  function Stripe(key) {
    if (typeof key !== 'string' || !key.startsWith('pk_')) {
      throw new Error('Invalid API Key provided: use a publishable key (pk_...).');
    }

    function intentId(clientSecret, prefix) {
      const match = new RegExp(`^(${prefix}_[A-Za-z0-9]+)_secret_`).exec(clientSecret || '');
      if (!match) {
        throw new Error('Invalid value for clientSecret: it should be a client secret of ' +
                        'the form ${id}_secret_${secret}.');
      }
      return match[1];
    }

    function paymentMethodParams(paymentMethod) {
      if (typeof paymentMethod === 'string') return {payment_method: paymentMethod};
      if (paymentMethod && paymentMethod.card instanceof CardElement) {
        const element = paymentMethod.card;
        return {payment_method_data: {
          type: 'card',
          card: element._card(),
          billing_details: element._billingDetails(paymentMethod.billing_details),
        }};
      }
      return {};
    }

    // A wallet's payment method: an existing id, or new from its type and billing details.
    function walletMethod(type, paymentMethod) {
      if (typeof paymentMethod === 'string') return {payment_method: paymentMethod};
      const data = {type};
      if (paymentMethod && paymentMethod.billing_details) {
        data.billing_details = paymentMethod.billing_details;
      }
      return {payment_method_data: data};
    }

    // What the promise resolves to once the intent has settled, as in real Stripe.js.
    function outcome(intent) {
      if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
        return {error: Object.assign({}, intent.last_payment_error, {payment_intent: intent})};
      }
      return {paymentIntent: intent};
    }

    return {
      elements(options) {
        return {
          _card: null,
          create(type, elementOptions) {
            if (type !== 'card') throw new Error(`fakestripe only fakes the 'card' Element.`);
            if (this._card) throw new Error('Can only create one Element of type card.');
            this._card = new CardElement(this);
            return this._card;
          },
          getElement(type) {
            return type === 'card' ? this._card : null;
          },
        };
      },

      async createToken(element, data) {
        const {body, error} = await post('/v1/tokens', {key, card: element._card()});
        return error ? {error} : {token: body};
      },

      async createPaymentMethod(params) {
        const {body, error} = await post('/v1/payment_methods', Object.assign(
          {key, type: 'card', billing_details: params.card._billingDetails(
            params.billing_details)},
          {card: params.card._card()}));
        return error ? {error} : {paymentMethod: body};
      },

      async confirmCardPayment(clientSecret, data, options) {
        const id = intentId(clientSecret, 'pi');
        const params = Object.assign(
          {key, client_secret: clientSecret},
          paymentMethodParams((data || {}).payment_method),
          (data || {}).receipt_email ? {receipt_email: data.receipt_email} : {},
          (data || {}).setup_future_usage ? {setup_future_usage: data.setup_future_usage} : {});
        let {body, error} = await post(`/v1/payment_intents/${id}/confirm`, params);
        if (error) return {error};
        if (body.status === 'requires_action') {
          const success = await authenticationDialog();
          ({body, error} = await post(`/v1/payment_intents/${id}/_authenticate`,
                                      {key, client_secret: clientSecret, success}));
          if (error) return {error};
        }
        return outcome(body);
      },

      // Redirects to the Alipay page (the fake's); the customer comes back to return_url with
      // payment_intent, payment_intent_client_secret and redirect_status. The promise resolves
      // only on an error, or with handleActions: false.
      async confirmAlipayPayment(clientSecret, data, options) {
        const id = intentId(clientSecret, 'pi');
        data = data || {};
        const params = Object.assign(
          {key, client_secret: clientSecret},
          walletMethod('alipay', data.payment_method),
          data.return_url ? {return_url: data.return_url} : {});
        const {body, error} = await post(`/v1/payment_intents/${id}/confirm`, params);
        if (error) return {error};
        const action = body.next_action;
        if ((options || {}).handleActions === false || !action ||
            action.type !== 'alipay_handle_redirect') {
          return outcome(body);
        }
        window.location.assign(action.alipay_handle_redirect.url);
        return new Promise(() => {});
      },

      // Shows the QR code dialog; resolves once the payment is authorized or failed there.
      async confirmWechatPayPayment(clientSecret, data, options) {
        const id = intentId(clientSecret, 'pi');
        data = data || {};
        const params = Object.assign(
          {key, client_secret: clientSecret},
          walletMethod('wechat_pay', data.payment_method),
          data.payment_method_options ? {payment_method_options: data.payment_method_options}
                                      : {});
        let {body, error} = await post(`/v1/payment_intents/${id}/confirm`, params);
        if (error) return {error};
        const action = body.next_action;
        if ((options || {}).handleActions === false || !action ||
            action.type !== 'wechat_pay_display_qr_code') {
          return outcome(body);
        }
        const success = await wechatPayDialog(action.wechat_pay_display_qr_code);
        ({body, error} = await post(`/v1/payment_intents/${id}/_authenticate`,
                                    {key, client_secret: clientSecret, success}));
        if (error) return {error};
        return outcome(body);
      },

      async confirmCardSetup(clientSecret, data) {
        const path = `/v1/setup_intents/${intentId(clientSecret, 'seti')}`;
        const base = {key, client_secret: clientSecret};
        let {body, error} = await post(`${path}/confirm`, Object.assign(
          {}, base, paymentMethodParams((data || {}).payment_method)));
        if (error) return {error};
        if (body.status === 'requires_action') {
          const success = await authenticationDialog();
          ({body, error} = await post(`${path}/${success ? 'confirm' : 'cancel'}`, base));
          if (error) return {error};
          if (!success) {
            return {error: {
              type: 'invalid_request_error',
              code: 'setup_intent_authentication_failure',
              message: 'The latest attempt to set up the payment method has failed because ' +
                       'authentication failed.',
              setup_intent: body,
            }};
          }
        }
        return {setupIntent: body};
      },
    };
  }

  window.Stripe = Stripe;
  console.log(`fakestripe: Stripe.js stand-in talking to ${API}`);
})();
