import { Public } from '../auth/public.decorator';
import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { SCRIPT, STYLE, tracePage } from './trace-page';

const sha256 = (text: string): string =>
  `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page may run only its own inline script and style, and talk only to this API: nothing
 * is fetched from elsewhere.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "connect-src 'self'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `/trace` (a search box) and `/trace/:id` (the waterfall of a flow). */
@ApiExcludeController()
@Public()
@Controller('trace')
export class TracePageController {
  private readonly html: string;

  constructor(config: AppConfig) {
    this.html = tracePage(config.KIBANA_URL);
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
}
