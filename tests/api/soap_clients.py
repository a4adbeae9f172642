"""zeep (a SOAP client nobody here wrote) talking to the app in process: its transport hands each request to
Starlette's TestClient instead of the network, so the WSDL timbra serves is the one zeep builds from."""
from __future__ import annotations

import zeep
from fastapi.testclient import TestClient
from zeep.transports import Transport


class AppTransport(Transport):
    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.app_client = client

    def load(self, url: str) -> bytes:
        r = self.app_client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        return r.content

    def post(self, address, message, headers):
        return self.app_client.post(address, content=message, headers=headers)


def zeep_client(client: TestClient, path: str) -> zeep.Client:
    """A zeep client of the service at `path`, built from the WSDL timbra serves there."""
    return zeep.Client(f"http://testserver{path}?wsdl", transport=AppTransport(client),
                       settings=zeep.Settings(strict=True, xml_huge_tree=False))
