"""fcemu's local certificate authority: constrained to aliyuncs.com's names and to no IP address, kept in its
folder, and made anew when one of looser constraints is found there."""
from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulator.fc_endpoint.authority import load_or_make

NAMES = ["1.cn-hangzhou.fc.aliyuncs.com", "1.cn-hangzhou-internal.fc.aliyuncs.com"]


def _constraints(path: Path) -> x509.NameConstraints:
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return certificate.extensions.get_extension_for_class(x509.NameConstraints).value


def test_the_authority_allows_aliyuncs_names_and_no_address(tmp_path: Path) -> None:
    files = load_or_make(tmp_path, NAMES)
    constraints = _constraints(files.authority)
    assert constraints.permitted_subtrees == [x509.DNSName("aliyuncs.com")]
    assert {str(item.value) for item in constraints.excluded_subtrees or []} == {"0.0.0.0/0", "::/0"}
    assert load_or_make(tmp_path, NAMES).authority.read_bytes() == files.authority.read_bytes()  # kept


def test_an_authority_of_looser_constraints_is_made_anew(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "older fcemu CA")])
    now = datetime.datetime.now(datetime.UTC)
    older = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
             .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
             .add_extension(x509.NameConstraints([x509.DNSName("aliyuncs.com")], None), critical=True)
             .sign(key, hashes.SHA256()))
    (tmp_path / "ca.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    (tmp_path / "ca.crt").write_bytes(older.public_bytes(serialization.Encoding.PEM))
    files = load_or_make(tmp_path, NAMES)
    assert _constraints(files.authority).excluded_subtrees
    issuer = x509.load_pem_x509_certificate(files.certificate.read_bytes()).issuer
    assert issuer != name
