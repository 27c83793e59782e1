"""pki - a throw-away PKI made with the openssl tool at test time (nothing checked in).

make_pki(dir) returns a dict of paths:
  ca, ca_key            root CA
  inter                 intermediate CA (signed by the root), issues the server certificate
  server, server_key    CN=localhost, SAN DNS:localhost + IP:127.0.0.1; server_chain = server
                        followed by the intermediate (what certfile holds)
  client, client_key    CN=client-cn, from the root
  subject, subject_key  full subject C/ST/L/O/OU/CN, from the root
  expired, expired_key  valid 2020-01-01 .. 2021-01-01, from the root
  revoked, revoked_key  revoked in crl
  crl                   the root's CRL listing `revoked`
  other_ca, other, other_key   a second, unrelated CA and a client it issued
EC P-256 keys: quick to make and to handshake."""

import os
import subprocess

SUBJECT = "/C=GB/ST=Derbyshire/L=Derby/O=Mosquitto Project/OU=Testing/CN=subject-client"

CA_CONF = """
[ ca ]
default_ca = the_ca
[ the_ca ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
crlnumber = {dir}/crlnumber
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = any
unique_subject = no
copy_extensions = copy
[ any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = CA:false
subjectAltName = DNS:localhost, IP:127.0.0.1
extendedKeyUsage = serverAuth
[ v3_client ]
basicConstraints = CA:false
extendedKeyUsage = clientAuth
"""


def _run(*args):
    subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _key(path):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)


def _ca_dir(d, name):
    cd = os.path.join(d, name)
    os.makedirs(cd)
    open(os.path.join(cd, "index.txt"), "w").close()
    with open(os.path.join(cd, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(cd, "crlnumber"), "w") as f:
        f.write("1000\n")
    conf = os.path.join(cd, "ca.cnf")
    with open(conf, "w") as f:
        f.write(CA_CONF.format(dir=cd))
    return cd, conf


def _self_signed(d, name, cn):
    cd, conf = _ca_dir(d, name)
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    _key(key)
    _run("req", "-new", "-x509", "-key", key, "-out", crt, "-days", "3650", "-subj", "/CN=" + cn,
         "-config", conf, "-extensions", "v3_ca")
    return {"dir": cd, "conf": conf, "key": key, "crt": crt}


def _issue(d, ca, name, subj, ext, start=None, end=None):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt"))
    _key(key)
    _run("req", "-new", "-key", key, "-out", csr, "-subj", subj)
    args = ["ca", "-batch", "-config", ca["conf"], "-cert", ca["crt"], "-keyfile", ca["key"],
            "-in", csr, "-out", crt, "-extensions", ext, "-notext"]
    if start:
        args += ["-startdate", start, "-enddate", end]
    _run(*args)
    return crt, key


def make_pki(d):
    root = _self_signed(d, "ca", "Test Root CA")
    p = {"ca": root["crt"], "ca_key": root["key"]}
    inter_crt, inter_key = _issue(d, root, "inter", "/CN=Test Intermediate CA", "v3_ca")
    cd, conf = _ca_dir(d, "inter_db")
    inter = {"dir": cd, "conf": conf, "key": inter_key, "crt": inter_crt}
    p["inter"] = inter_crt
    p["server"], p["server_key"] = _issue(d, inter, "server", "/CN=localhost", "v3_server")
    p["server_chain"] = os.path.join(d, "server-chain.crt")
    with open(p["server_chain"], "w") as out:
        for f in (p["server"], inter_crt):
            with open(f) as src:
                out.write(src.read())
    p["client"], p["client_key"] = _issue(d, root, "client", "/CN=client-cn", "v3_client")
    p["subject"], p["subject_key"] = _issue(d, root, "subject", SUBJECT, "v3_client")
    p["expired"], p["expired_key"] = _issue(d, root, "expired", "/CN=expired-client", "v3_client",
                                            "20200101000000Z", "20210101000000Z")
    p["revoked"], p["revoked_key"] = _issue(d, root, "revoked", "/CN=revoked-client", "v3_client")
    _run("ca", "-batch", "-config", root["conf"], "-cert", root["crt"], "-keyfile", root["key"],
         "-revoke", p["revoked"])
    p["crl"] = os.path.join(d, "ca.crl")
    _run("ca", "-batch", "-config", root["conf"], "-cert", root["crt"], "-keyfile", root["key"],
         "-gencrl", "-out", p["crl"])
    other = _self_signed(d, "other_ca", "Other Root CA")
    p["other_ca"] = other["crt"]
    p["other"], p["other_key"] = _issue(d, other, "other", "/CN=other-client", "v3_client")
    for f in os.listdir(d):
        if os.path.isfile(os.path.join(d, f)):
            os.chmod(os.path.join(d, f), 0o644)  # the broker may run as 'mosquitto'
    return p
