// A QR code as an SVG built with DOM calls (no inline script or style, so
// it shows under the portal's Content-Security-Policy too). The `qrcode`
// package does the encoding; this only draws its module matrix.
import QRCode from "qrcode";

const SVG = "http://www.w3.org/2000/svg";
/** Light modules around the code, as the standard asks (4). */
const QUIET = 4;

export function qrSvg(text: string, px = 200): SVGSVGElement {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: "M" }).modules;
  const n = size + 2 * QUIET;
  let d = "";
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      if (data[r * size + c]) d += `M${c + QUIET} ${r + QUIET}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${n} ${n}`);
  svg.setAttribute("width", String(px));
  svg.setAttribute("height", String(px));
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  svg.setAttribute("data-testid", "admin-totp-qr");
  svg.setAttribute("data-modules", String(size));
  // Dark on light whatever the theme: scanners want that.
  const bg = document.createElementNS(SVG, "rect");
  bg.setAttribute("width", String(n));
  bg.setAttribute("height", String(n));
  bg.setAttribute("fill", "#fff");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}
