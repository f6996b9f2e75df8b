/**
 * Draws TicketZero's two Teams app icons from geometry, so they belong to this repository and can be rebuilt:
 *   appPackage/color.png    192×192, the white ticket on TicketZero teal
 *   appPackage/outline.png   32×32, the same ticket in white on a transparent background
 *
 * The symbol is an admission ticket (a rounded card with a semicircular notch on each side) with a "0" punched
 * through it: the ticket that gets to zero. Edges are anti-aliased by supersampling each pixel.
 *
 * Usage: npm run icons
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';

/** TicketZero teal (#0E7C7B): dark enough for white to contrast on Teams' light and dark themes. */
export const BRAND_COLOR = { r: 0x0e, g: 0x7c, b: 0x7b } as const;

export const COLOR_ICON_SIZE = 192;
export const OUTLINE_ICON_SIZE = 32;

/** A shape in unit coordinates: (0,0) top-left, (1,1) bottom-right of the icon. */
type Shape = (x: number, y: number) => boolean;

interface TicketGeometry {
  /** Ticket bounds in unit coordinates. */
  left: number;
  top: number;
  right: number;
  bottom: number;
  cornerRadius: number;
  notchRadius: number;
  /** The punched "0": an elliptical ring centred on the ticket. */
  ringRadiusX: number;
  ringRadiusY: number;
  ringThickness: number;
}

function roundedRect(g: TicketGeometry): Shape {
  return (x, y) => {
    if (x < g.left || x > g.right || y < g.top || y > g.bottom) return false;
    const r = g.cornerRadius;
    const cx = Math.min(Math.max(x, g.left + r), g.right - r);
    const cy = Math.min(Math.max(y, g.top + r), g.bottom - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
}

function ticket(g: TicketGeometry): Shape {
  const card = roundedRect(g);
  const midY = (g.top + g.bottom) / 2;
  const midX = (g.left + g.right) / 2;
  return (x, y) => {
    if (!card(x, y)) return false;
    // Notches on the left and right edges.
    if ((x - g.left) ** 2 + (y - midY) ** 2 <= g.notchRadius ** 2) return false;
    if ((x - g.right) ** 2 + (y - midY) ** 2 <= g.notchRadius ** 2) return false;
    // The "0": inside the outer ellipse and outside the inner one.
    const outer = ((x - midX) / g.ringRadiusX) ** 2 + ((y - midY) / g.ringRadiusY) ** 2;
    const inner =
      ((x - midX) / (g.ringRadiusX - g.ringThickness)) ** 2 +
      ((y - midY) / (g.ringRadiusY - g.ringThickness)) ** 2;
    if (outer <= 1 && inner > 1) return false;
    return true;
  };
}

/** Fraction of the pixel (px, py) covered by the shape, from an n×n grid of samples. */
function coverage(shape: Shape, size: number, px: number, py: number, n = 4): number {
  let hits = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (shape((px + (i + 0.5) / n) / size, (py + (j + 0.5) / n) / size)) hits++;
    }
  }
  return hits / (n * n);
}

/** Teams shows the colour icon inside its own tile; the symbol sits in the central safe area. */
const COLOR_TICKET: TicketGeometry = {
  left: 0.2,
  top: 0.3,
  right: 0.8,
  bottom: 0.7,
  cornerRadius: 0.05,
  notchRadius: 0.06,
  ringRadiusX: 0.085,
  ringRadiusY: 0.12,
  ringThickness: 0.035,
};

/** At 32 px the symbol fills the icon, with strokes at least two pixels wide. */
const OUTLINE_TICKET: TicketGeometry = {
  left: 0.03,
  top: 0.19,
  right: 0.97,
  bottom: 0.81,
  cornerRadius: 0.09,
  notchRadius: 0.11,
  ringRadiusX: 0.16,
  ringRadiusY: 0.22,
  ringThickness: 0.075,
};

/** 192×192, opaque: a white ticket on TicketZero teal. */
export function drawColorIcon(): PNG {
  const size = COLOR_ICON_SIZE;
  const png = new PNG({ width: size, height: size, colorType: 6 });
  const shape = ticket(COLOR_TICKET);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = coverage(shape, size, x, y);
      const i = (y * size + x) * 4;
      png.data[i] = Math.round(BRAND_COLOR.r + (255 - BRAND_COLOR.r) * a);
      png.data[i + 1] = Math.round(BRAND_COLOR.g + (255 - BRAND_COLOR.g) * a);
      png.data[i + 2] = Math.round(BRAND_COLOR.b + (255 - BRAND_COLOR.b) * a);
      png.data[i + 3] = 255;
    }
  }
  return png;
}

/** 32×32: white where the ticket is, transparent elsewhere (anti-aliased edges are white with partial alpha). */
export function drawOutlineIcon(): PNG {
  const size = OUTLINE_ICON_SIZE;
  const png = new PNG({ width: size, height: size, colorType: 6 });
  const shape = ticket(OUTLINE_TICKET);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = coverage(shape, size, x, y);
      const i = (y * size + x) * 4;
      png.data[i] = 255;
      png.data[i + 1] = 255;
      png.data[i + 2] = 255;
      png.data[i + 3] = Math.round(255 * a);
    }
  }
  return png;
}

/** Encodes deterministically (same pixels → same bytes), so the committed icons can be checked against the drawing. */
export function encodePng(png: PNG): Buffer {
  return PNG.sync.write(png, { colorType: 6 });
}

export async function writeIcons(appPackageDir: string): Promise<{ color: string; outline: string }> {
  await mkdir(appPackageDir, { recursive: true });
  const color = join(appPackageDir, 'color.png');
  const outline = join(appPackageDir, 'outline.png');
  await writeFile(color, encodePng(drawColorIcon()));
  await writeFile(outline, encodePng(drawOutlineIcon()));
  return { color, outline };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const written = await writeIcons(join(root, 'appPackage'));
  console.log(`icons: wrote ${written.color} and ${written.outline}`);
}
