"""Template + context → DOCX bytes, refusing anything that would print wrong rather than fail loudly.

Three ways a generated document can be silently wrong, each turned into an exception here:

* a field the template names but the context lacks (Jinja prints it as nothing by default):
  :class:`TemplateFieldMissing` names the field path and the template;
* a character no mapped font can draw (LibreOffice prints an empty box): :class:`MissingGlyphs`;
* markup in data (``&``, ``<``, quotes in a unit's name) breaking the document XML: values are
  XML-escaped by the environment, never by callers.

Templates come from the registry and may be uploaded by an admin, so Jinja runs sandboxed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from doc_templates.context import QrCode
from doc_templates.fonts import missing_glyphs
from doc_templates.kinds import KINDS, Kind
from doc_templates.qr import qr_png

__all__ = [
    "MissingGlyphs",
    "RenderError",
    "TemplateFieldMissing",
    "load_template",
    "make_environment",
    "render_docx",
    "template_name",
]


class RenderError(Exception):
    """The document could not be rendered; ``template`` says which template."""

    def __init__(self, message: str, template: str) -> None:
        super().__init__(f"{message} (template {template})")
        self.template = template


class TemplateFieldMissing(RenderError):
    def __init__(self, field: str, template: str) -> None:
        super().__init__(f"template field {field!r} has no value", template)
        self.field = field


class MissingGlyphs(RenderError):
    def __init__(self, chars: list[str], template: str) -> None:
        listed = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars)
        super().__init__(f"no installed font can draw: {listed}", template)
        self.chars = chars


class _MissingField(UndefinedError):
    def __init__(self, field: str | None = None) -> None:
        super().__init__(field)
        self.field = field or "?"


class _Fields(dict[str, Any]):
    """A context mapping that knows its own path, so a missing attribute can be named in full."""

    __slots__ = ("_path",)

    def __init__(self, path: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self._path = path


class _FieldUndefined(StrictUndefined):
    """StrictUndefined whose error carries the dotted field path (``volunteer.name``, not ``'name'``)."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[UndefinedError] = _MissingField,
    ) -> None:
        super().__init__(hint, obj, name, _MissingField)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_name is None:
            return self._undefined_hint or "?"
        parent = self._undefined_obj._path if isinstance(self._undefined_obj, _Fields) else None
        return f"{parent}.{self._undefined_name}" if parent else str(self._undefined_name)


def make_environment() -> SandboxedEnvironment:
    """The one Jinja environment for document templates: sandboxed, strict, XML-escaping."""
    return SandboxedEnvironment(undefined=_FieldUndefined, autoescape=True)


def template_name(template: Kind | str | bytes) -> str:
    """How errors name a template: the kind code, or the first 12 hex digits of an upload's SHA-256."""
    if isinstance(template, Kind):
        return template.code
    if isinstance(template, str):
        return template
    return f"sha256:{hashlib.sha256(template).hexdigest()[:12]}"


def load_template(template: Kind | str | bytes) -> bytes:
    """The DOCX bytes of a kind's built-in template (by Kind or code), or ``template`` itself."""
    if isinstance(template, bytes):
        return template
    kind = template if isinstance(template, Kind) else KINDS[template]
    return kind.template_path.read_bytes()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def context_strings(context: Any) -> list[str]:
    """Every text a context would print, for checking glyph coverage before rendering."""
    return _strings(context)


def _prepare(tpl: DocxTemplate, value: Any, path: str) -> Any:
    if isinstance(value, QrCode):
        png = io.BytesIO(qr_png(value.payload))
        return InlineImage(tpl, png, width=Mm(value.size_mm), height=Mm(value.size_mm))
    if isinstance(value, Mapping):
        return _Fields(path, {k: _prepare(tpl, v, f"{path}.{k}" if path else k) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [_prepare(tpl, v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def render_docx(
    template: Kind | str | bytes, context: Mapping[str, Any], *, check_glyphs: bool = True
) -> bytes:
    """Render ``template`` (a Kind, a kind code, or uploaded DOCX bytes) with ``context`` to DOCX bytes."""
    name = template_name(template)
    if check_glyphs:
        lacking = missing_glyphs(_strings(context))
        if lacking:
            raise MissingGlyphs(lacking, name)
    tpl = DocxTemplate(io.BytesIO(load_template(template)))
    prepared = _prepare(tpl, dict(context), "")
    try:
        tpl.render(prepared, jinja_env=make_environment(), autoescape=True)
    except _MissingField as exc:
        raise TemplateFieldMissing(exc.field, name) from None
    except TemplateError as exc:
        raise RenderError(f"template error: {exc}", name) from exc
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()
