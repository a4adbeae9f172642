"""The database schema (SQLAlchemy 2.0 declarative). Alembic migrations under store/migrations create it.

Tenancy: every row that belongs to a customer carries `account_id`, and every query in store/ filters by it.
Blobs (the stamped XML, acuses) live in their own tables so listing never reads them; they can move to
S3-compatible storage behind `store.blobs` without touching the rest.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which keeps no zone) as on PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)  # a PostgreSQL session in another TimeZone answers in it


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A PAC admin, a distributor (or franchisee) or an emisor (a client with one or more RFCs)."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("kind IN ('admin', 'distributor', 'emisor')", name="kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(254))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountRfc(Base):
    """An RFC an emisor account may stamp for, with the name SAT registers for it (Emisor@Nombre of the CFDI
    timbra issues; None: the CSD's name without the régimen de capital).

    An RFC belongs to one account: at most one row per RFC is not `shared`. Only the PAC admin adds an RFC
    that another account holds already, and that row is marked `shared`."""

    __tablename__ = "account_rfcs"
    __table_args__ = (Index("ix_account_rfcs_owner", "rfc", unique=True, sqlite_where=text("NOT shared"),
                            postgresql_where=text("NOT shared")),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    rfc: Mapped[str] = mapped_column(String(13), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    nombre: Mapped[str | None] = mapped_column(String(254))
    shared: Mapped[bool] = mapped_column(default=False, server_default=false())


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """An API key: shown once; stored as its SHA-256 (keys are 256-bit random, so a slow hash adds nothing)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Package(Base):
    """Credits an account holds: `size` credits usable from `activation` until `expiry`.

    `used` counts credits spent on stamps or handed down to a client (a client's package then names its
    `source_id`). The check constraints make a negative balance impossible whatever the code does.
    """

    __tablename__ = "packages"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= size", name="used_within_size"),
                      CheckConstraint("size > 0", name="size_positive"),
                      Index("ix_packages_spendable", "account_id", "expiry", "id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    size: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    activation: Mapped[datetime] = mapped_column(UTCDateTime())
    expiry: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Cfdi(Base):
    """One stamped CFDI: the columns the reports filter on; the XML is in `cfdi_xml`."""

    __tablename__ = "cfdis"
    __table_args__ = (Index("ix_cfdis_account_stamped", "account_id", "fecha_timbrado", "uuid"),
                      Index("ix_cfdis_account_issued", "account_id", "fecha"),
                      Index("ix_cfdis_account_receptor", "account_id", "rfc_receptor"))

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    version: Mapped[str] = mapped_column(String(4))
    rfc_emisor: Mapped[str] = mapped_column(String(13))
    rfc_receptor: Mapped[str] = mapped_column(String(13))
    nombre_receptor: Mapped[str] = mapped_column(String(300), default="")
    serie: Mapped[str] = mapped_column(String(25), default="")
    folio: Mapped[str] = mapped_column(String(40), default="")
    tipo: Mapped[str] = mapped_column(String(1))
    fecha: Mapped[str] = mapped_column(String(19))  # local time of LugarExpedicion, as written (ISO, sortable)
    fecha_timbrado: Mapped[datetime] = mapped_column(UTCDateTime())
    total: Mapped[Decimal] = mapped_column(Numeric(24, 6))
    moneda: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="vigente")
    sat_status: Mapped[str] = mapped_column(String(16), default="pendiente")
    no_certificado_sat: Mapped[str] = mapped_column(String(20))
    sello_sat: Mapped[str] = mapped_column(Text)
    sello_digest: Mapped[str] = mapped_column(String(64), unique=True)  # 307: a Sello is stamped once
    document_digest: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the bytes received


class CfdiXml(Base):
    """The stamped XML: here (`xml`), or in the object store under `blob` (TIMBRA_BLOB_URL)."""

    __tablename__ = "cfdi_xml"
    __table_args__ = (CheckConstraint("(xml IS NULL) <> (blob IS NULL)", name="xml_or_blob"),)

    uuid: Mapped[str] = mapped_column(ForeignKey("cfdis.uuid"), primary_key=True)
    xml: Mapped[bytes | None] = mapped_column(LargeBinary)
    blob: Mapped[str | None] = mapped_column(String(200))


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    document_digest: Mapped[str] = mapped_column(String(64))
    uuid: Mapped[str] = mapped_column(ForeignKey("cfdis.uuid"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SatAcuse(Base):
    """SAT's acknowledgment that it received a CFDI (acuse de envío), as the gateway returned it."""

    __tablename__ = "sat_acuses"

    uuid: Mapped[str] = mapped_column(ForeignKey("cfdis.uuid"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # "recibido" | "rechazado"
    code: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    xml: Mapped[bytes] = mapped_column(LargeBinary)


class Outbox(Base):
    """Work to do after a commit (deliver to SAT, ...), written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "done_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CsdKey(Base):
    """An emisor's CSD kept by the vault (conexión remota), to seal the CFDI timbra builds for it.

    The password the emisor gave is never stored: the private key (PKCS#8 DER) is encrypted with AES-GCM
    under the master key `master_key_id`, with (account_id, no_certificado) as associated data so that a
    ciphertext copied into another row does not decrypt. A removed CSD keeps its certificate for the record
    and loses its key material (`key_nonce` and `key_ciphertext` emptied).
    """

    __tablename__ = "csd_keys"
    __table_args__ = (UniqueConstraint("account_id", "no_certificado"),
                      # At most one active CSD per account and RFC: the one that seals.
                      Index("ix_csd_keys_active_rfc", "account_id", "rfc", unique=True,
                            sqlite_where=text("active"), postgresql_where=text("active")))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    rfc: Mapped[str] = mapped_column(String(13))
    no_certificado: Mapped[str] = mapped_column(String(20))
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    key_nonce: Mapped[bytes] = mapped_column(LargeBinary)
    key_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    master_key_id: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CancelRequest(Base):
    """One Cancelacion sent (or to be sent) to SAT: the signed XML exactly as sent, and SAT's acuse exactly as
    received (its XMLDSig keeps verifying on these bytes). Stored before it is sent: a crash after SAT
    accepted it loses nothing, the outbox sends the same bytes again and SAT answers with the same acuse."""

    __tablename__ = "cancel_requests"
    __table_args__ = (Index("ix_cancel_requests_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    rfc_emisor: Mapped[str] = mapped_column(String(13))
    signed_by: Mapped[str] = mapped_column(String(8))  # "vault" | "csd" | "client"
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code: Mapped[str | None] = mapped_column(String(8))  # SAT's request-level code when it refused the request
    acuse: Mapped[bytes | None] = mapped_column(LargeBinary)


class Cancellation(Base):
    """The cancellation of one CFDI: the request that carries it and where SAT's process stands.

    `code` is SAT's EstatusUUID for it (None until SAT answers; 201 accepted; 202-212 refused);
    `estatus` is SAT's EstatusCancelacion (En proceso, Plazo vencido, Cancelado sin aceptación, Cancelado
    con aceptación, Solicitud rechazada) or "" when SAT refused the request. One row per UUID: a new request
    after a refusal or a rejection replaces it (the events keep the history)."""

    __tablename__ = "cancellations"
    __table_args__ = (Index("ix_cancellations_account", "account_id", "requested_at"),)

    uuid: Mapped[str] = mapped_column(ForeignKey("cfdis.uuid"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("cancel_requests.id"), index=True)
    motivo: Mapped[str] = mapped_column(String(2))
    folio_sustitucion: Mapped[str | None] = mapped_column(String(36))
    code: Mapped[str | None] = mapped_column(String(8))
    estatus: Mapped[str] = mapped_column(String(32), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CancelAnswer(Base):
    """A receptor's answer (Aceptacion / Rechazo) to a cancellation, as signed and as SAT answered it."""

    __tablename__ = "cancel_answers"
    __table_args__ = (Index("ix_cancel_answers_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    uuid: Mapped[str] = mapped_column(String(36))
    rfc_receptor: Mapped[str] = mapped_column(String(13))
    respuesta: Mapped[str] = mapped_column(String(12))  # Aceptacion | Rechazo
    code: Mapped[str | None] = mapped_column(String(8))  # SAT's 1000-1006
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """Something that happened to a CFDI (a state change of its cancellation, ...), in order, for the
    account it belongs to: what a webhook publishes."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account", "account_id", "id"), Index("ix_events_uuid", "uuid", "id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    uuid: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(48))
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A signed-in browser of the portal. The cookie carries a random token; only its SHA-256 is stored, so
    a copy of the database opens no session. Sign-out deletes the row; a password change deletes the user's
    other sessions. `csrf` is the token every form of the session posts back."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Registration(Base):
    """A distributor's request to register a new client (FEL's "alta de timbrado"): the client's data and
    its documents (`registration_files`). The PAC admin approves it (the emisor account and its user are
    created then: `account_id`) or rejects it (`note` says why). It belongs to the distributor's account."""

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_distributor", "distributor_id", "id"),
                      Index("ix_registrations_status", "status", "id"),
                      CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(254))
    rfc: Mapped[str] = mapped_column(String(13))
    nombre: Mapped[str | None] = mapped_column(String(254))  # the name SAT registers for the RFC
    email: Mapped[str] = mapped_column(String(254), default="")
    username: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RegistrationFile(Base):
    """One document of a registration (solicitud de alta, constancia de inscripción al RFC, contrato firmado,
    comprobante de pago), kept as uploaded."""

    __tablename__ = "registration_files"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
class Branding(Base):
    """An account's look on its printed CFDI: a logo (PNG, normalized at upload) and an accent colour. `version`
    grows with every change, so a rendered PDF cached under an older version is never served again."""

    __tablename__ = "brandings"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    color: Mapped[str | None] = mapped_column(String(7))  # "#RRGGBB"
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
