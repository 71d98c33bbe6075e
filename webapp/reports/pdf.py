"""Lay a ``ReportView`` out as an A4 PDF with fpdf2: a header and the disclaimer on every page, page numbers,
the photos with the lesion's outline drawn over them as vector lines (like the site's SVG), the numbers as tables.

Pure layout: every word arrives translated, so this runs in a worker thread without the request's language.
"""

from __future__ import annotations

import logging
from io import BytesIO

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from webapp.reports.fonts import ReportFont, report_font
from webapp.reports.views import ReportView, VisitView

# fontTools names every table it cannot subset (NanumGothic's hinting sources): noise, once per report.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

FAMILY = "report"
MARGIN = 15.0  # mm
FOOTER_H = 30.0  # mm kept free at the bottom for the disclaimer and the page number
PHOTO_BOX = 82.0  # mm: the largest side of a photo
TRIAGE_COLOURS = {"high": (176, 32, 32), "medium": (184, 112, 0), "low": (32, 120, 64)}
INK, MUTED, RULE = (20, 20, 20), (90, 90, 90), (180, 180, 180)
CONCERNING_BAR, OTHER_BAR, TRACK = (196, 60, 60), (70, 110, 160), (228, 228, 228)


class _Document(FPDF):
    def __init__(self, report: ReportView, font: ReportFont) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.add_font(FAMILY, "", str(font.regular))
        self.add_font(FAMILY, "B", str(font.bold))
        self.set_margins(MARGIN, 26, MARGIN)
        self.set_auto_page_break(True, margin=FOOTER_H)
        self.set_title(f"{report.brand}: {report.title}")
        self.set_author(report.brand)
        self.set_creator(report.brand)
        self.set_lang(report.lang)

    def header(self) -> None:
        report = self.report
        self.set_y(10)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 11)
        self.cell(0, 6, f"{report.brand} · {report.title}", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, report.generated, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if report.person:
            self.set_font(FAMILY, "", 9)
            self.set_text_color(*INK)
            self.cell(0, 5, report.person, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(MARGIN, 23, self.w - MARGIN, 23)
        self.set_y(26)
        self.set_text_color(*INK)

    def footer(self) -> None:
        report = self.report
        self.set_y(-FOOTER_H + 4)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.ln(1.5)
        self.set_text_color(*MUTED)
        self.set_font(FAMILY, "B", 7)
        self.multi_cell(0, 3.2, report.section_titles["not_a_diagnosis"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 7)
        self.multi_cell(0, 3.2, report.disclaimer, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(-9)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 4, report.page_template % {"page": self.page_no(), "pages": self.alias_nb_pages_text},
                  align="C")
        self.set_text_color(*INK)

    # An alias fpdf2 replaces by the page count when the document is finished.
    alias_nb_pages_text = "{nb}"

    # ----------------------------------------------------------------------------------------------- blocks
    def heading(self, text: str, size: float = 13) -> None:
        self.set_font(FAMILY, "B", size)
        self.set_text_color(*INK)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9.5, bold: bool = False, colour: tuple[int, int, int] = INK,
                  width: float = 0) -> None:
        if not text:
            return
        self.set_font(FAMILY, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(width, size * 0.48, text, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1)

    def photo(self, visit: VisitView, x: float, y: float) -> float:
        """The photo at (x, y), the outline over it; returns the bottom edge."""
        width_px, height_px = visit.photo_size
        scale = PHOTO_BOX / max(width_px, height_px, 1)
        w, h = width_px * scale, height_px * scale
        self.image(BytesIO(visit.photo), x=x, y=y, w=w, h=h, alt_text=visit.caption)
        if visit.outline and visit.outline_size:
            sx, sy = w / visit.outline_size[0], h / visit.outline_size[1]
            points = [(x + px * sx, y + py * sy) for px, py in visit.outline]
            # A dark band under a bright line, as on the site: visible on light and dark skin alike.
            for colour, line_width in (((16, 42, 32), 1.1), ((61, 255, 158), 0.5)):
                self.set_draw_color(*colour)
                self.set_line_width(line_width)
                self.polygon(points, style="D")
            self.plain_lines()
        self.set_xy(x, y + h + 1)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(w, 4, visit.caption)
        self.set_text_color(*INK)
        return y + h + 6

    def probabilities(self, visit: VisitView, x: float, width: float) -> None:
        name_w, value_w = width * 0.5, width * 0.15
        bar_w = width - name_w - value_w - 2
        for row in visit.probabilities:
            y = self.get_y()
            self.set_xy(x, y)
            self.set_font(FAMILY, "B" if row.is_top else "", 8.5)
            # Long class names wrap under themselves instead of running into the bar.
            self.multi_cell(name_w - 1, 4.2, row.name, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
            bottom = max(self.get_y(), y + 5)
            self.set_fill_color(*TRACK)
            self.rect(x + name_w, y + 0.9, bar_w, 2.4, style="F")
            self.set_fill_color(*(CONCERNING_BAR if row.is_concerning else OTHER_BAR))
            if row.probability > 0:
                self.rect(x + name_w, y + 0.9, max(0.3, bar_w * min(1.0, row.probability)), 2.4, style="F")
            self.set_xy(x + name_w + bar_w + 2, y)
            self.cell(value_w, 4.2, row.shown, align="R")
            self.set_xy(x, bottom + 0.6)

    def plain_lines(self) -> None:
        """Tables after bars and outlines: thin grey rules, no fill."""
        self.set_draw_color(*RULE)
        self.set_fill_color(255, 255, 255)
        self.set_line_width(0.2)

    def rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.plain_lines()
        with self.table(col_widths=(45, 25, 110), text_align=("LEFT", "RIGHT", "LEFT"), first_row_as_headings=False,
                        line_height=4.6, borders_layout="HORIZONTAL_LINES", padding=1) as table:
            for label, value, note in rows:
                table.row([label, value, note])

    def visit(self, visit: VisitView, titles: dict[str, str]) -> None:
        if visit.heading:
            self.heading(visit.heading, 11.5)
        top = self.get_y()
        bottom_left = self.photo(visit, MARGIN, top)
        right_x = MARGIN + PHOTO_BOX + 6
        right_w = self.w - MARGIN - right_x
        self.set_xy(right_x, top)
        self.paragraph(visit.looks_like, 11, bold=True, width=right_w)
        self.set_x(right_x)
        self.paragraph(visit.urgency, 10, bold=True, colour=TRIAGE_COLOURS.get(visit.triage_level, INK),
                       width=right_w)
        self.set_x(right_x)
        self.paragraph(titles["probabilities"], 9.5, bold=True, width=right_w)
        self.probabilities(visit, right_x, right_w)
        self.set_xy(MARGIN, max(bottom_left, self.get_y()) + 3)

        self.paragraph(titles["what_to_do"], 10.5, bold=True)
        self.paragraph(visit.advice, bold=True)
        self.paragraph(visit.reason, colour=MUTED)
        self.paragraph(visit.concerning, 8.5, colour=MUTED)
        self.paragraph(visit.context_note, 8.5, colour=MUTED)
        if visit.spot_account:
            self.paragraph(titles["spot"], 10.5, bold=True)
            for question, answer in visit.spot_account:
                self.paragraph(f"• {question} {answer}", 8.5)
        if visit.warnings or visit.photo_kind:
            self.paragraph(titles["photo"], 10.5, bold=True)
            self.paragraph(visit.photo_kind, 8.5)
            self.paragraph(visit.kind_performance, 8.5, colour=MUTED)
            self.paragraph(visit.closer_photo, 8.5, bold=True)
            for warning in visit.warnings:
                self.paragraph(f"• {warning}", 8.5)
        self.ln(1)
        self.paragraph(titles["measurements"], 10.5, bold=True)
        self.set_font(FAMILY, "", 8.5)
        self.rows([(m.label, m.value, m.note) for m in visit.measurements])
        self.ln(2)
        self.paragraph(titles["models"], 10.5, bold=True)
        for model in visit.models:
            self.paragraph(model, 8.5)
        self.paragraph(visit.synthetic_note, 8.5, bold=True, colour=TRIAGE_COLOURS["high"])

    def change(self) -> None:
        report = self.report
        self.heading(report.change_title, 12)
        first, *rest = report.change_lines or [""]
        self.paragraph(first, 10, bold=True, colour=TRIAGE_COLOURS["high"] if report.change_flagged else INK)
        for line in rest:
            self.paragraph(f"• {line}", 9.5)
        if report.table_rows:
            self.plain_lines()
            self.set_font(FAMILY, "", 7.5)
            widths = (38, 30, 18, 22, 18, 27, 27)
            with self.table(col_widths=widths, line_height=3.8, padding=1, borders_layout="HORIZONTAL_LINES",
                            text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                            headings_style=FontFace(family=FAMILY, emphasis="BOLD")) as table:
                table.row(report.table_header)
                for cells in report.table_rows:
                    table.row(cells)
            self.ln(2)
        self.paragraph(report.change_rule, 8, colour=MUTED)


def render(report: ReportView, font: ReportFont | None = None) -> bytes:
    """The report as PDF bytes (A4). Raises ``ReportFontMissing`` when no font with Hangul is installed."""
    pdf = _Document(report, font or report_font())
    pdf.add_page()
    pdf.heading(report.subject, 16)
    pdf.paragraph(" · ".join(report.facts), 9.5, colour=MUTED)
    pdf.ln(2)
    if report.change_title:
        pdf.change()
    for index, visit in enumerate(report.visits):
        if report.change_title or index:
            pdf.add_page()
        pdf.visit(visit, report.section_titles)
    return bytes(pdf.output())
