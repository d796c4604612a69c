"""Local stand-ins for the upstream services (CDSE, ASF, DestinE): real HTTP servers on 127.0.0.1.

The synthetic STAC item generator for tests and benchmarks is ``eocat.samples`` (it shares this
package's orbit model and burst constants).
"""
