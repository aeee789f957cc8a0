"""The review form's fields checked, all of them, before anything is stored. Pure: fields and uploads in, the
values as typed (to show the form again), an error per field in the buyer's language, and the answers out.

Field names are those of /work/shared/API.md: `rating`, `title`, `text` for the shop; `rating.SKU`, `title.SKU`,
`text.SKU` and `photo.SKU` (files) for each product of the order; `website` is the honeypot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collectors.forms import Answer
from reviews_service import i18n, photos
from reviews_service.i18n import N_

MAX_TITLE = 150
MAX_TEXT = 5000
MAX_PHOTOS = 3
MAX_FILENAME = 60  # characters of an upload's name quoted in an error
KINDS = ("rating", "title", "text", "photo")
HONEYPOT = "website"
GENERAL = "form"  # the error key of what belongs to no one field (a product not in the order)
PHOTO_REFUSALS = {
    "not-an-image": N_("“{name}” is not a photo. Choose a JPEG, PNG or WebP image."),
    "format": N_("“{name}” is not a JPEG, PNG or WebP image."),
    "too-large": N_("“{name}” is larger than 8 MB. Choose a smaller photo."),
    "too-many-pixels": N_(
        "“{name}” has too many pixels (at most 40 megapixels, 16 for a PNG or WebP). Choose a smaller photo."
    ),
}
Decoder = Callable[[bytes], photos.Processed]  # photos.process, or the same behind the app's gate


@dataclass
class Entry:
    """One subject's fields as the buyer typed them (shown again with the errors)."""

    rating: str = ""
    title: str = ""
    text: str = ""


@dataclass(frozen=True)
class Upload:
    """One file of a `photo.SKU` field."""

    field: str
    filename: str
    data: bytes


@dataclass
class Checked:
    """A submission checked: values as typed, errors by field name, and what to store if there are none."""

    values: dict[str | None, Entry]
    errors: dict[str, str] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    photos: dict[str, list[photos.Processed]] = field(default_factory=dict)  # new photos by sku
    honeypot: bool = False
    uploaded: set[str] = field(default_factory=set)  # skus whose photos came but were not kept (errors elsewhere)

    @property
    def ok(self) -> bool:
        """Nothing refused: the answers may be stored."""
        return not self.errors and not self.honeypot


def name(kind: str, sku: str | None) -> str:
    """A field's name: `rating` for the shop, `rating.SKU` for a product."""
    return kind if sku is None else f"{kind}.{sku}"


def _split(field_name: str) -> tuple[str, str | None] | None:
    kind, dot, sku = field_name.partition(".")
    if kind not in KINDS:
        return None
    return kind, (sku if dot else None)


def _text(value: str) -> str:
    # a browser sends a textarea's line breaks as CRLF but counts each as one character against maxlength
    return value.replace("\r\n", "\n").replace("\r", "\n")


def check(
    locale: str,
    fields: Iterable[tuple[str, str]],
    uploads: Iterable[Upload],
    products: list[str],
    decode: Decoder | None = None,
) -> Checked:
    """Every field and upload of one submission against the order's products (`products`, in the form's order).

    The text fields are checked first; the photos are decoded (by `decode`) only when nothing else is wrong."""
    offered = set(products)
    values: dict[str | None, Entry] = {sku: Entry() for sku in (None, *products)}
    checked = Checked(values)
    errors = checked.errors
    seen: set[str] = set()
    strangers: set[str] = set()
    for field_name, raw in fields:
        if field_name == HONEYPOT:
            checked.honeypot = checked.honeypot or bool(raw.strip())
            continue
        parsed = _split(field_name)
        if parsed is None:
            continue  # a submit button's name, a tracking field: not ours, not stored
        kind, sku = parsed
        if sku is not None and sku not in offered:
            strangers.add(sku)
            continue
        if kind == "photo":
            if raw:  # a file field sent as text: a client that did not upload the file
                errors[name("photo", sku)] = i18n.gettext(locale, "Send photos as files (the form's photo button).")
            continue
        if field_name in seen:
            errors[field_name] = i18n.gettext(locale, "This field was sent twice; send the form once more.")
            continue
        seen.add(field_name)
        setattr(values[sku], kind, _text(raw))
    if checked.honeypot:  # refused whatever else it says: no photo is even decoded
        return checked
    files: dict[str, list[Upload]] = {}
    for upload in uploads:
        parsed = _split(upload.field)
        if parsed is None or parsed[0] != "photo" or parsed[1] is None:
            continue
        if parsed[1] not in offered:
            strangers.add(parsed[1])
        elif upload.data or upload.filename:  # an empty file input sends an empty part with no name
            files.setdefault(parsed[1], []).append(upload)
    if strangers:
        errors[GENERAL] = i18n.gettext(
            locale, "The form named a product that is not part of this order. Open the form from its link again."
        )
    for sku, entry in values.items():
        _check_entry(locale, sku, entry, files.get(sku, []) if sku else [], checked)
    if not errors:  # photos are decoded only for a submission that is otherwise right: the costly part comes last
        _decode_photos(locale, files, checked, decode or photos.process)
    if checked.ok:
        checked.answers = [_answer(sku, entry) for sku, entry in values.items()]
    else:
        checked.uploaded = set(files)
        checked.photos = {}
    return checked


def _check_entry(locale: str, sku: str | None, entry: Entry, uploads: list[Upload], checked: Checked) -> None:
    errors = checked.errors
    rating = entry.rating.strip()
    if rating and rating not in ("1", "2", "3", "4", "5"):
        errors[name("rating", sku)] = i18n.gettext(locale, "A rating is 1 to 5 stars.")
    elif not rating and sku is None:
        errors[name("rating", sku)] = i18n.gettext(locale, "Choose how many stars you give the shop (1 to 5).")
    elif not rating and (entry.title.strip() or entry.text.strip() or uploads):
        errors[name("rating", sku)] = i18n.gettext(
            locale, "Choose how many stars you give this product too, or leave its title, text and photos empty."
        )
    for kind, limit in (("title", MAX_TITLE), ("text", MAX_TEXT)):
        length = len(getattr(entry, kind).strip())
        if length > limit:
            errors[name(kind, sku)] = i18n.gettext(
                locale,
                "At most {limit} characters, please: this has {length}.",
                limit=i18n.format_number(limit, locale, 0),
                length=i18n.format_number(length, locale, 0),
            )
    if sku is None or not uploads:
        return
    if len(uploads) > MAX_PHOTOS:
        errors[name("photo", sku)] = i18n.gettext(
            locale, "At most 3 photos per product: you chose {n}.", n=i18n.format_number(len(uploads), locale, 0)
        )


def _decode_photos(locale: str, files: dict[str, list[Upload]], checked: Checked, decode: Decoder) -> None:
    """Every photo decoded and re-encoded, in the form's order, within one submission's PIXEL_BUDGET."""
    spent = 0
    for sku, uploads in files.items():
        processed: list[photos.Processed] = []
        for upload in uploads:
            shown = upload.filename.replace("\n", " ")[:MAX_FILENAME] or "?"
            spent += photos.pixels(upload.data)  # read from the header: nothing decoded yet
            if spent > photos.PIXEL_BUDGET:
                checked.errors[name("photo", sku)] = i18n.gettext(
                    locale,
                    "“{name}” and the photos before it have too many pixels together. Choose smaller photos.",
                    name=shown,
                )
                return
            try:
                processed.append(decode(upload.data))
            except photos.PhotoRefused as refused:
                message = PHOTO_REFUSALS.get(refused.reason, PHOTO_REFUSALS["not-an-image"])
                checked.errors[name("photo", sku)] = i18n.gettext(locale, message, name=shown)
                return
        checked.photos[sku] = processed


def _answer(sku: str | None, entry: Entry) -> Answer:
    rating = int(entry.rating.strip()) if entry.rating.strip() else None
    return Answer(sku=sku, rating=rating, title=entry.title.strip(), text=entry.text.strip())
