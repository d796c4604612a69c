"""``eocat emulate all``: every stand-in up at once, each answering its own protocol."""

from __future__ import annotations

import httpx

from emulators.everything import everything


def test_every_emulator_answers() -> None:
    with everything(products=50, burst_frames=1) as env:
        assert {"EOCAT_CDSE_CATALOGUE_URL", "EOCAT_ASF_SEARCH_URL", "EOCAT_ASF_BURST_URL", "EOCAT_EDL_URL",
                "EOCAT_DESTINE_STREAMER_URL", "EOCAT_DESP_AUTH_URL"} <= set(env)  # fmt: skip
        products = httpx.get(env["EOCAT_CDSE_CATALOGUE_URL"] + "/Products", params={"$top": 1, "$count": "true"})
        assert products.status_code == 200 and products.json()["@odata.count"] >= 50
        bursts = httpx.get(env["EOCAT_CDSE_CATALOGUE_URL"] + "/Bursts", params={"$count": "true", "$top": 1})
        cdse_bursts = bursts.json()["@odata.count"]
        asf = httpx.get(env["EOCAT_ASF_SEARCH_URL"], params={"dataset": "SLC-BURST", "output": "count"})
        assert asf.status_code == 200 and int(asf.text) > 0 and cdse_bursts > 0  # the same truth at both
        openid = httpx.get(env["EOCAT_DESP_AUTH_URL"] + "/.well-known/openid-configuration")
        assert openid.status_code == 200 and "token_endpoint" in openid.json()
