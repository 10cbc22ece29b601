// A request report as PDF, written here with pdf-lib and its standard
// Helvetica (no font file, no network): the fields of a mutual-legal-
// assistance or SIENA-style request drawn from one hit, for the officer's
// own agency to complete and send through its own channel.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { RequestReport } from './api-types.js';
import { FORMAT_TITLES, REPORT_FOOTNOTE, reportFields } from './report-fields.js';

/** Characters Helvetica cannot encode (WinAnsi) become "?", so any officer name or note prints. */
function encodable(font: PDFFont, s: string): string {
  const set = new Set(font.getCharacterSet());
  let out = '';
  for (const ch of s.replace(/[\r\n\t]+/g, ' ')) out += set.has(ch.codePointAt(0) as number) ? ch : '?';
  return out;
}

function wrap(font: PDFFont, text: string, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) <= width) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    // A word longer than the column (a handle) is cut where it overflows.
    let rest = word;
    while (font.widthOfTextAtSize(rest, size) > width) {
      let n = rest.length - 1;
      while (n > 1 && font.widthOfTextAtSize(rest.slice(0, n), size) > width) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

export async function reportPdf(r: RequestReport): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const created = new Date(r.createdAt);
  // Fixed metadata: the same report gives the same document.
  doc.setTitle(`${FORMAT_TITLES[r.format]}: ${r.caseRef}`);
  doc.setAuthor(`${r.officer.name} (${r.officer.id}), ${r.agency}`);
  doc.setSubject(`Concordat hit ${r.handle}`);
  doc.setProducer('Concordat');
  doc.setCreator('Concordat investigator console');
  doc.setCreationDate(created);
  doc.setModificationDate(created);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const A4: [number, number] = [595.28, 841.89];
  const margin = 56;
  const labelWidth = 130;
  const valueX = margin + labelWidth + 10;
  const valueWidth = A4[0] - margin - valueX;
  let page: PDFPage = doc.addPage(A4);
  let y = A4[1] - margin;
  const need = (h: number): void => {
    if (y - h < margin) {
      page = doc.addPage(A4);
      y = A4[1] - margin;
    }
  };
  const draw = (text: string, x: number, f: PDFFont, size: number, color = rgb(0, 0, 0)): void => {
    page.drawText(text, { x, y, font: f, size, color });
  };

  draw(encodable(bold, FORMAT_TITLES[r.format]), margin, bold, 18);
  y -= 22;
  draw(encodable(font, `Draft for ${r.agency}'s own use, prepared from a Concordat match`), margin, font, 10, rgb(0.3, 0.3, 0.3));
  y -= 28;
  for (const [label, value] of reportFields(r)) {
    const lines = wrap(font, encodable(font, value), 10.5, valueWidth);
    need(lines.length * 14 + 6);
    draw(encodable(bold, label), margin, bold, 10.5);
    for (const l of lines) {
      draw(l, valueX, font, 10.5);
      y -= 14;
    }
    y -= 6;
  }
  y -= 10;
  for (const l of wrap(font, REPORT_FOOTNOTE, 9, A4[0] - 2 * margin)) {
    need(12);
    draw(l, margin, font, 9, rgb(0.3, 0.3, 0.3));
    y -= 12;
  }
  return doc.save();
}
