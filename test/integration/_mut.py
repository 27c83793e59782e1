import unittest, test_proxy_tls as t, test_proxy_v2 as v
class MutTls(t.RequireTls): LISTENER = ("enable_proxy_protocol 2",)
class MutCert(t.RequireCertificate): LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true")
class MutLocal(v.V2Local): LISTENER = ("enable_proxy_protocol 1",)
unittest.main(argv=["x", "MutTls", "MutCert", "MutLocal"])
