import { Controller, Get, Header, HttpStatus, Param } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from '../../auth/public.decorator';
import { AppConfig } from '../../config/app-config';
import { ProblemException } from '../../problem/problem.exception';
import { STYLE, tracePage } from './trace-page.html';

/**
 * The page's browser modules, by their path in the compiled app (dist/): its script and the
 * modules it imports. They are served under {@link MODULES_PATH} with the same paths, so that
 * their relative imports resolve in the browser as they do on disk.
 */
export const BROWSER_MODULES = [
  'traces/page/trace-page.browser.mjs',
  'traces/page/api-client.browser.mjs',
  'traces/page/page-dom.browser.mjs',
  'traces/page/flow-list.browser.mjs',
  'traces/page/flow-filters.browser.mjs',
  'traces/page/waterfall.browser.mjs',
  'traces/page/bar-detail.browser.mjs',
  'traces/page/waterfall-rows.mjs',
  'traces/page/critical-path.mjs',
  'traces/page/time-axis.mjs',
  'traces/trace-format.mjs',
  'logging/event-actions.mjs',
] as const;
export const MODULES_PATH = '/trace/assets/';
/** The compiled app's root: this file is in traces/page/ under it. */
const APP_ROOT = join(__dirname, '..', '..');

const sha256 = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page may run only scripts this API serves (its modules) and its own inline style, and
 * talk only to this API: nothing is fetched from elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "connect-src 'self'",
  "script-src 'self'",
  `style-src ${sha256(STYLE)}`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `/trace` (a search box and the recent flows), `/trace/:id` (the waterfall of a flow), and the page's script at
 * `/trace/assets/…`.
 */
@ApiExcludeController()
@Public()
@Controller('trace')
export class TracePageController {
  private readonly html: string;
  /** Read on first request: the compiled files exist once `nest build` has run. */
  private readonly modules = new Map<string, string>();

  constructor(config: AppConfig) {
    this.html = tracePage(config.KIBANA_URL, MODULES_PATH + BROWSER_MODULES[0]);
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CONTENT_SECURITY_POLICY)
  search(): string {
    return this.html;
  }

  /** The ID is read by the page itself, from its address. */
  @Get(':id')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CONTENT_SECURITY_POLICY)
  flow(@Param('id') _id: string): string {
    return this.html;
  }

  /** One of {@link BROWSER_MODULES}; any other path is a 404. */
  @Get('assets/*path')
  @Header('content-type', 'text/javascript; charset=utf-8')
  module(@Param('path') path: string | string[]): string {
    const name = Array.isArray(path) ? path.join('/') : path;
    const known = BROWSER_MODULES.find((module) => module === name);
    if (!known) {
      throw new ProblemException(HttpStatus.NOT_FOUND, {
        title: 'Not Found',
        detail: `${MODULES_PATH}${name} is not one of the trace page's scripts.`,
      });
    }
    let text = this.modules.get(known);
    if (text === undefined) {
      try {
        text = readFileSync(join(APP_ROOT, known), 'utf8');
      } catch {
        throw new ProblemException(HttpStatus.INTERNAL_SERVER_ERROR, {
          title: 'Trace page not built',
          detail: `The trace page's script ${known} is not in this build: run npm run build, then start the API from dist/.`,
        });
      }
      this.modules.set(known, text);
    }
    return text;
  }
}
