"""fcemu's local certificate authority, and the certificate it issues FC's endpoint names, so that an instance
calls `https://<account>.<region>-internal.fc.aliyuncs.com` as FC's SDKs do, verified, without turning any
check off.

Made once per data folder and kept there (the keys readable by their owner only); the endpoint's certificate is
issued again when the names change (another account or region) or it nears its end. The authority is
name-constrained to `aliyuncs.com` and to no IP address: were its key ever read, it could vouch for no other site.
The instances are given a trust bundle of the public roots plus this authority (added, never replacing them),
never the keys.
"""
from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The only domain its certificates may name (an X.509 name constraint, which OpenSSL and Node.js enforce).
CONSTRAINED_TO = "aliyuncs.com"
# DNS names below it only, and no IP address at all: a name constraint on DNS names alone leaves addresses free.
_CONSTRAINTS = x509.NameConstraints(
    permitted_subtrees=[x509.DNSName(CONSTRAINED_TO)],
    excluded_subtrees=[x509.IPAddress(ipaddress.ip_network("0.0.0.0/0")), x509.IPAddress(ipaddress.ip_network("::/0"))],
)
AUTHORITY_DAYS = 3650
ENDPOINT_DAYS = 825
# An endpoint certificate this close to its end is issued again at start-up.
RENEW_BEFORE = datetime.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    # fcemu's authority alone: what NODE_EXTRA_CA_CERTS adds to Node.js's own roots.
    authority: Path
    # The public roots followed by fcemu's authority: the instance's OS store, SSL_CERT_FILE, REQUESTS_CA_BUNDLE.
    trust_bundle: Path
    # The endpoint names' certificate and key, for the emulator's TLS listener only.
    certificate: Path
    private_key: Path


def public_roots() -> bytes:
    """The host's public root certificates (its OS store; certifi's bundle where it has none)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and os.path.isfile(candidate):
            return Path(candidate).read_bytes()
    try:
        import certifi
    except ImportError:
        return b""
    return Path(certifi.where()).read_bytes()


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Written whole, then renamed over the old file: a reader never sees half a certificate."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    temporary.replace(path)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _make_authority() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A serial in the name too: two emulators' authorities never share a subject.
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fcemu"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"fcemu local CA {os.urandom(4).hex()}")])
    now = _now()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=AUTHORITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(_CONSTRAINTS, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _issue(authority_key: ec.EllipticCurvePrivateKey, authority: x509.Certificate, names: Sequence[str]
           ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(authority.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=ENDPOINT_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
                       critical=False)
        .sign(authority_key, hashes.SHA256())
    )
    return key, certificate


def _constraints(certificate: x509.Certificate) -> x509.NameConstraints | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return None


def _names_of(certificate: x509.Certificate) -> list[str]:
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return extension.value.get_values_for_type(x509.DNSName)


def load_or_make(folder: Path, names: Sequence[str]) -> TlsFiles:
    """The authority and the endpoint certificate for `names` in `folder`, made or issued where missing, stale or
    for other names. Several processes sharing the folder take turns (a lock file): all end with the same
    authority."""
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(authority=folder / "ca.crt", trust_bundle=folder / "trust-bundle.crt",
                     certificate=folder / "endpoint.crt", private_key=folder / "endpoint.key")
    authority_key_file = folder / "ca.key"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        authority: x509.Certificate | None = None
        authority_key: ec.EllipticCurvePrivateKey | None = None
        if authority_key_file.exists() and files.authority.exists():
            loaded = serialization.load_pem_private_key(authority_key_file.read_bytes(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{authority_key_file} is not fcemu's authority key; remove {folder} to make anew")
            authority_key, authority = loaded, x509.load_pem_x509_certificate(files.authority.read_bytes())
        if authority is None or authority_key is None or _constraints(authority) != _CONSTRAINTS:
            # None yet, or one of an earlier fcemu whose constraints were looser: made anew.
            authority_key, authority = _make_authority()
            _write(authority_key_file, _key_pem(authority_key), private=True)
            _write(files.authority, _pem(authority))
            files.certificate.unlink(missing_ok=True)
        current = (x509.load_pem_x509_certificate(files.certificate.read_bytes())
                   if files.certificate.exists() and files.private_key.exists() else None)
        if (current is None or sorted(_names_of(current)) != sorted(names)
                or current.issuer != authority.subject
                or current.not_valid_after_utc - RENEW_BEFORE < _now()):
            key, certificate = _issue(authority_key, authority, names)
            _write(files.private_key, _key_pem(key), private=True)
            _write(files.certificate, _pem(certificate))
        roots = public_roots()
        _write(files.trust_bundle, roots + (b"" if not roots or roots.endswith(b"\n") else b"\n") + _pem(authority))
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The TLS listener's context for the endpoint names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.certificate, files.private_key)
    return context
