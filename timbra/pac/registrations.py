"""A distributor registers a new client (FEL's alta de timbrado): the client's data and four documents go in
as one request; the PAC admin reads the documents and approves it (the emisor account, its RFC and its user
are created under the distributor, and the user's first password is shown once, to the admin, who hands it
over) or rejects it saying why.

Documents are kept as uploaded, each a PDF, JPEG or PNG of at most MAX_FILE_BYTES, recognised by its first
bytes (the type the browser claims is ignored). A distributor sees its own requests only; another's is
"not found".
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from timbra.cfdi.rfc import well_formed as rfc_well_formed
from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.accounts import Accounts, Principal, RfcEntry
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Registration, RegistrationFile

MAX_FILE_BYTES = 5 * 1024 * 1024
# The documents FEL asks for, in the order a person reads them: (kind, Spanish, English).
DOCUMENTS = (
    ("alta", "Solicitud de alta de timbrado", "Stamping sign-up form"),
    ("constancia", "Constancia de inscripción al RFC", "RFC registration certificate"),
    ("contrato", "Contrato firmado", "Signed contract"),
    ("pago", "Comprobante de pago", "Proof of payment"),
)
KINDS = tuple(k for k, _, _ in DOCUMENTS)
_MAGIC = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


@dataclass(frozen=True)
class Upload:
    kind: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Approved:
    registration: Registration
    account_id: int
    username: str
    password: str  # generated; shown once


def sniff(data: bytes) -> str | None:
    """The document's type from its first bytes, or None when it is not a PDF, PNG or JPEG."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    return None


def clean_filename(name: str) -> str:
    """The last path component, printable characters only, at most 120 of them."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ").strip()
    return (base or "documento")[:120]


class Registrations:
    def __init__(self, db: Database, accounts: Accounts, clock: Clock = SYSTEM) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock

    def submit(self, who: Principal, *, name: str, rfc: str, nombre: str | None, email: str, username: str,
               files: list[Upload]) -> Registration:
        if who.kind != "distributor":
            raise error("T102", message="Solo un distribuidor registra clientes.",
                        message_en="Only a distributor registers clients.")
        name, username, email = name.strip(), username.strip(), email.strip()
        rfc = (rfc or "").strip().upper()
        problems = []
        if not name or len(name) > 254:
            problems.append(("name", "La razón social es obligatoria (hasta 254 caracteres).",
                             "The company name is required (up to 254 characters)."))
        if not rfc_well_formed(rfc):
            problems.append(("rfc", f"RFC inválido: {rfc!r}.", f"Invalid RFC: {rfc!r}."))
        if email and not _EMAIL.match(email):
            problems.append(("email", "Correo electrónico inválido.", "Invalid e-mail address."))
        if not re.fullmatch(r"[A-Za-z0-9._@-]{3,64}", username):
            problems.append(("username", "Usuario: de 3 a 64 letras, números, punto, guion o arroba.",
                             "User name: 3 to 64 letters, digits, dot, dash or at sign."))
        if problems:
            field, es, en = problems[0]
            raise error("T100", message=es, message_en=en, detail={"field": field})
        by_kind = {}
        for f in files:
            if f.kind not in KINDS or f.kind in by_kind or not f.data:
                continue
            ctype = sniff(f.data)
            if ctype is None or len(f.data) > MAX_FILE_BYTES:
                raise error("T213", detail={"kind": f.kind, "filename": clean_filename(f.filename)})
            by_kind[f.kind] = (f, ctype)
        missing = [k for k in KINDS if k not in by_kind]
        if missing:
            raise error("T213", message="Faltan documentos: " + ", ".join(es for k, es, _ in DOCUMENTS if k in missing),
                        message_en="Missing documents: " + ", ".join(en for k, _, en in DOCUMENTS if k in missing),
                        detail={"missing": missing})
        now = self.clock.now()
        with self.db.session() as s:
            if repo.user_by_name(s, username) is not None:
                raise error("T110", message=f"El usuario {username!r} ya existe.",
                            message_en=f"The user {username!r} already exists.")
            row = Registration(distributor_id=who.account_id, name=name, rfc=rfc, nombre=(nombre or "").strip() or None,
                               email=email, username=username, status="pending", note="", created_by=who.user_id,
                               created_at=now)
            docs = [RegistrationFile(kind=k, filename=clean_filename(f.filename), content_type=ctype, size=len(f.data),
                                     sha256=hashlib.sha256(f.data).hexdigest(), data=f.data, created_at=now)
                    for k, (f, ctype) in ((k, by_kind[k]) for k in KINDS)]
            return repo.add_registration(s, row, docs)

    def list(self, who: Principal, status: str | None = None) -> list[Registration]:
        """The admin sees every distributor's requests; a distributor its own."""
        with self.db.reader() as s:
            return repo.registrations(s, self._scope(who), status)

    def get(self, who: Principal, registration_id: int) -> tuple[Registration, list[RegistrationFile]]:
        with self.db.reader() as s:
            row = repo.registration(s, registration_id, self._scope(who))
            if row is None:
                raise error("T103", detail={"registration_id": registration_id})
            return row, repo.registration_files(s, row.id)

    def file(self, who: Principal, registration_id: int, file_id: int) -> RegistrationFile:
        with self.db.reader() as s:
            row = repo.registration(s, registration_id, self._scope(who))
            f = repo.registration_file(s, row.id, file_id) if row is not None else None
        if f is None:
            raise error("T103", detail={"file_id": file_id})
        return f

    def approve(self, who: Principal, registration_id: int) -> Approved:
        """The PAC admin: the client's emisor account (under the distributor), its RFC and user are created;
        the user's generated password is in the answer only."""
        self._admin(who)
        row = self._pending(registration_id)
        made = self.accounts.create_account(who, kind="emisor", name=row.name, parent_id=row.distributor_id,
                                            rfcs=[RfcEntry(row.rfc, row.nombre)], username=row.username)
        self._decide(who, registration_id, "approved", "", made.account.id)
        return Approved(row, made.account.id, row.username, made.password or "")

    def reject(self, who: Principal, registration_id: int, note: str) -> None:
        self._admin(who)
        note = (note or "").strip()
        if not note:
            raise error("T100", message="Diga por qué se rechaza la solicitud.",
                        message_en="Say why the request is rejected.")
        self._pending(registration_id)
        self._decide(who, registration_id, "rejected", note[:2000], None)

    # --- internals --------------------------------------------------------------------------------------

    @staticmethod
    def _scope(who: Principal) -> int | None:
        if who.is_admin:
            return None
        if who.kind == "distributor":
            return who.account_id
        raise error("T102")

    @staticmethod
    def _admin(who: Principal) -> None:
        if not who.is_admin:
            raise error("T102", message="Solo el administrador del PAC resuelve registros.",
                        message_en="Only the PAC admin decides registrations.")

    def _pending(self, registration_id: int) -> Registration:
        with self.db.reader() as s:
            row = repo.registration(s, registration_id, None)
        if row is None:
            raise error("T103", detail={"registration_id": registration_id})
        if row.status != "pending":
            raise error("T214", detail={"status": row.status})
        return row

    def _decide(self, who: Principal, registration_id: int, status: str, note: str, account_id: int | None) -> None:
        now: datetime = self.clock.now()
        with self.db.session() as s:
            row = repo.registration(s, registration_id, None, lock=True)
            if row is None or row.status != "pending":
                raise error("T214")
            row.status, row.note, row.account_id = status, note, account_id
            row.decided_at, row.decided_by = now, who.user_id
