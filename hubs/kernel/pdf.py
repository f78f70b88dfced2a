"""Documents as PDFs: a template rendered by WeasyPrint. Its fonts come through fontconfig: the print templates
name Noto Sans CJK first, as WeasyPrint draws boxes for Chinese without a font that covers it (the README says
what to install)."""

from django.template.loader import render_to_string
from weasyprint import HTML


def pdf_render(template: str, context: dict) -> bytes:
    return HTML(string=render_to_string(template, context)).write_pdf()
