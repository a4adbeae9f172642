"""The printed CFDI (representación impresa) of a stored stamp, and the account's branding for it.

A PDF is rendered on demand from the stored XML (timbra.render) and kept in a process-wide LRU cache keyed
by (account, UUID, cancelled, branding version). That key names every input of the PDF: the stored XML never
changes after the stamp, "cancelled" is the one thing of the CFDI's later life the page shows, and the
branding's version grows with every change of logo or colour. So a cached PDF is never stale and nothing is
invalidated: a cancellation or a new logo makes a new key and the old entry ages out. The cache is bounded
by bytes (TIMBRA_PDF_CACHE_MB); each process keeps its own (API processes stay stateless: a miss renders).

Branding: a logo (PNG or JPEG, at most 512 KB and 4000x4000 pixels, re-encoded here as a PNG of at most
1200x600 pixels, so the renderer only ever reads one small, well-formed kind of image) and an accent colour
"#RRGGBB".
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from timbra.clock import SYSTEM, Clock
from timbra.codes import error
from timbra.pac.accounts import Accounts, Principal
from timbra.render import Branding, render_pdf
from timbra.store import repo
from timbra.store.db import Database
from timbra.store.models import Cfdi

CANCELADO = "cancelado"
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4000
LOGO_BOX = (1200, 600)  # stored size limit: 300 dpi for the 42 x 22 mm the page gives it, with room
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def check_color(color: str | None) -> str | None:
    """'#RRGGBB' (upper-cased) or None; T192 otherwise."""
    if color is None:
        return None
    text = color.strip()
    if not _COLOR.match(text):
        raise error("T192", detail={"color": color[:20]})
    return text.upper()


@dataclass(frozen=True)
class Logo:
    png: bytes
    width: int
    height: int


def normalize_logo(data: bytes) -> Logo:
    """A PNG or JPEG checked (T190 not an image of those kinds, T191 too large) and re-encoded as a PNG that
    fits LOGO_BOX, transparency kept, metadata dropped."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise error("T191", detail={"bytes": len(data), "max_bytes": MAX_LOGO_BYTES})
    try:
        with Image.open(BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG"):
                raise error("T190", detail={"format": img.format})
            w, h = img.size
            if w > MAX_LOGO_PIXELS or h > MAX_LOGO_PIXELS or w < 1 or h < 1:
                raise error("T191", detail={"width": w, "height": h, "max_pixels": MAX_LOGO_PIXELS})
            img.load()
            mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info) \
                else "RGB"
            out = img.convert(mode)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise error("T190", detail={"reason": type(exc).__name__}) from None
    out.thumbnail(LOGO_BOX)
    buf = BytesIO()
    out.save(buf, format="PNG", optimize=True)
    return Logo(buf.getvalue(), out.width, out.height)


@dataclass(frozen=True)
class BrandingInfo:
    color: str | None
    logo: bool
    logo_width: int | None
    logo_height: int | None
    version: int
    updated_at: datetime | None

    def as_dict(self) -> dict:
        return {"color": self.color, "logo": self.logo, "logo_width": self.logo_width,
                "logo_height": self.logo_height, "version": self.version,
                "updated_at": self.updated_at.isoformat() if self.updated_at else None}


@dataclass(frozen=True)
class Printed:
    uuid: str
    pdf: bytes
    cancelled: bool
    cached: bool


class PdfCache:
    """A least-recently-used map of rendered PDFs, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            pdf = self._items.get(key)
            if pdf is not None:
                self._items.move_to_end(key)
            return pdf

    def put(self, key: tuple, pdf: bytes) -> None:
        if len(pdf) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = pdf
            self._bytes += len(pdf)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        return self._bytes


class Printing:
    def __init__(self, db: Database, accounts: Accounts, clock: Clock = SYSTEM, *, cache_bytes: int = 32 << 20,
                 max_document_bytes: int = 20 << 20) -> None:
        self.db = db
        self.accounts = accounts
        self.clock = clock
        self.cache = PdfCache(cache_bytes)
        self.max_document_bytes = max_document_bytes

    # -- the PDF -------------------------------------------------------------------------------------
    def pdf(self, who: Principal, uuid: str, account_id: int | None = None, *, logo: bytes | None = None) -> Printed:
        """The representación impresa of a CFDI of the account (T103 for any other), marked when SAT has
        cancelled it, with the account's logo and colour; `logo` (PNG/JPEG, checked like an upload) replaces
        the account's logo for this one PDF (FEL's ObtenerPDF LogoBase64), which is then not cached."""
        if logo is not None:
            return self._with_logo(who, uuid, account_id, normalize_logo(logo).png)
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper()
        with self.db.reader() as s:
            row = repo.cfdi(s, acc, uuid)
            if row is None:
                raise error("T103", detail={"uuid": uuid})
            version = repo.branding_version(s, acc)
        cancelled = row.status == CANCELADO
        key = (acc, uuid, cancelled, version)
        pdf = self.cache.get(key)
        if pdf is not None:
            return Printed(uuid, pdf, cancelled, True)
        with self.db.reader() as s:
            xml = repo.cfdi_xml(s, acc, uuid)
            brand = repo.branding(s, acc)
        if xml is None:
            raise error("T103", detail={"uuid": uuid})
        if brand is not None:  # the version read now (a change meanwhile renders, and is cached, as it is now)
            key = (acc, uuid, cancelled, brand.version)
        look = Branding(brand.logo, brand.color) if brand is not None else None
        pdf = render_pdf(xml, cancelled=cancelled, branding=look, max_bytes=max(self.max_document_bytes, len(xml)))
        self.cache.put(key, pdf)
        return Printed(uuid, pdf, cancelled, False)

    def _with_logo(self, who: Principal, uuid: str, account_id: int | None, png: bytes) -> Printed:
        acc = self.accounts.scope(who, account_id)
        uuid = uuid.strip().upper()
        with self.db.reader() as s:
            row = repo.cfdi(s, acc, uuid)
            xml = repo.cfdi_xml(s, acc, uuid) if row is not None else None
            brand = repo.branding(s, acc)
        if row is None or xml is None:
            raise error("T103", detail={"uuid": uuid})
        cancelled = row.status == CANCELADO
        pdf = render_pdf(xml, cancelled=cancelled, branding=Branding(png, brand.color if brand else None),
                         max_bytes=max(self.max_document_bytes, len(xml)))
        return Printed(uuid, pdf, cancelled, False)

    def pdf_of(self, cfdi: Cfdi, xml: bytes) -> bytes:
        """The PDF of a CFDI someone already found and may see (the receptors' public lookup: UUID, RFC emisor
        and RFC receptor all matched), with its emisor account's logo and colour; cached like `pdf`."""
        cancelled = cfdi.status == CANCELADO
        with self.db.reader() as s:
            brand = repo.branding(s, cfdi.account_id)
        key = (cfdi.account_id, cfdi.uuid, cancelled, brand.version if brand is not None else 0)
        pdf = self.cache.get(key)
        if pdf is None:
            look = Branding(brand.logo, brand.color) if brand is not None else None
            pdf = render_pdf(xml, cancelled=cancelled, branding=look,
                             max_bytes=max(self.max_document_bytes, len(xml)))
            self.cache.put(key, pdf)
        return pdf

    # -- branding ------------------------------------------------------------------------------------
    def branding(self, who: Principal, account_id: int | None = None) -> BrandingInfo:
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            row = repo.branding(s, acc)
            return _info(row)

    def logo(self, who: Principal, account_id: int | None = None) -> bytes:
        acc = self.accounts.scope(who, account_id)
        with self.db.reader() as s:
            row = repo.branding(s, acc)
            if row is None or row.logo is None:
                raise error("T103", message="La cuenta no tiene logo.", message_en="The account has no logo.")
            return row.logo

    def set_branding(self, who: Principal, *, logo: bytes | None = None, color: str | None = None,
                     keep_logo: bool = False, keep_color: bool = False,
                     account_id: int | None = None) -> BrandingInfo:
        """Set the logo and the colour; None clears one; keep_* leaves one as it is."""
        acc = self.accounts.scope(who, account_id)
        color = check_color(color) if not keep_color else None
        new_logo = normalize_logo(logo) if logo is not None and not keep_logo else None
        with self.db.session() as s:
            old = repo.branding(s, acc)
            if keep_color:
                color = old.color if old is not None else None
            if keep_logo and old is not None and old.logo is not None:
                png, w, h = old.logo, old.logo_width, old.logo_height
            elif new_logo is not None:
                png, w, h = new_logo.png, new_logo.width, new_logo.height
            else:
                png = w = h = None
            row = repo.put_branding(s, acc, color=color, logo=png, logo_width=w, logo_height=h, now=self.clock.now())
            return _info(row)

    def clear_branding(self, who: Principal, account_id: int | None = None) -> BrandingInfo:
        return self.set_branding(who, logo=None, color=None, account_id=account_id)


def _info(row) -> BrandingInfo:
    if row is None:
        return BrandingInfo(None, False, None, None, 0, None)
    return BrandingInfo(row.color, row.logo is not None, row.logo_width, row.logo_height, row.version,
                        row.updated_at)
