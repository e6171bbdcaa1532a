"""Control of the fake Stripe server the app under test talks to (the ``stripe_fake``
fixture): reset, request log, faults, and acting as the backer's browser."""

from __future__ import annotations


class FakeStripe:
    """Control of the fake server: reset, request log, faults, and acting as the browser."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.http = requests.Session()

    def reset(self) -> None:
        self.http.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def requests(self, path_prefix: str = "/v1/", method: str | None = None) -> list[dict]:
        log = self.http.get(f"{self.url}/_config/requests", timeout=10).json()
        log = log.get("data", log) if isinstance(log, dict) else log
        return [
            r
            for r in log
            if r["path"].startswith(path_prefix) and (method is None or r["method"] == method)
        ]

    def objects(self, kind: str) -> list[dict]:
        """Every object of a kind ("refunds", "transfers", ...) at the fake, page after page."""
        objects: list[dict] = []
        after = None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = self.http.get(
                f"{self.url}/v1/{kind}", params=params, auth=("sk_test_offline", ""), timeout=10
            ).json()
            objects += page["data"]
            if not page.get("has_more") or not page["data"]:
                return objects
            after = page["data"][-1]["id"]

    def fault(self, path: str, status: int = 500, count: int = 1, method: str = "POST") -> None:
        self.http.post(
            f"{self.url}/_config/faults",
            timeout=10,
            data={
                "path": path,
                "status": status,
                "count": count,
                "method": method,
            },
        ).raise_for_status()

    def set_fees(self, **schedule: tuple[str, int]) -> None:
        """Stripe's card pricing for some currencies: ``usd=("2.9", 30)`` is 2.9% + 30 cents.
        ``reset`` puts back the schedule the fake started with."""
        data = {}
        for currency, (percent, fixed) in schedule.items():
            data[f"{currency}[percent]"] = percent
            data[f"{currency}[fixed]"] = str(fixed)
        self.http.post(f"{self.url}/_config/fees", timeout=10, data=data).raise_for_status()

    def balance(self, currency: str) -> int:
        """The platform's whole Stripe balance in one currency: available plus pending."""
        body = self.http.get(
            f"{self.url}/v1/balance", timeout=10, auth=("sk_test_offline", "")
        ).json()
        return sum(
            part["amount"]
            for kind in ("available", "pending")
            for part in body[kind]
            if part["currency"] == currency
        )

    def pay(self, intent_id: str, card: str = "pm_card_visa") -> dict:
        """What Stripe.js does in the browser: confirm the intent with a card."""
        response = self.http.post(
            f"{self.url}/v1/payment_intents/{intent_id}/confirm",
            timeout=10,
            data={"payment_method": card},
            auth=("sk_test_offline", ""),
        )
        return response.json()

    def authenticate(self, intent_id: str, client_secret: str, success: bool = True) -> dict:
        response = self.http.post(
            f"{self.url}/v1/payment_intents/{intent_id}/_authenticate",
            timeout=10,
            data={
                "key": "pk_test_offline",
                "client_secret": client_secret,
                "success": "true" if success else "false",
            },
        )
        return response.json()

    def register_webhook(self, url: str, secret: str) -> None:
        self.http.post(
            f"{self.url}/_config/webhooks/platform", timeout=10, data={"url": url, "secret": secret}
        ).raise_for_status()

    def events(self, type_: str | None = None) -> list[dict]:
        params = {"type": type_} if type_ else {}
        return self.http.get(
            f"{self.url}/v1/events", params=params, timeout=10, auth=("sk_test_offline", "")
        ).json()["data"]
