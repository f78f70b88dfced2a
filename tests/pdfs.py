"""Reading rendered PDFs back in tests: their text, and whether Chinese can be drawn as text at all here."""

import io
import shutil
import subprocess

from pypdf import PdfReader


def cjk_font_installed() -> bool:
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    return "Noto Sans CJK" in fonts


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
