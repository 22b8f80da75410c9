import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLogger, LOG_FILE_MODE } from '../../../src/core/log.js';

describe('the log file', () => {
  it('is readable by its owner only, even when it was there before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kexp-log-'));
    const fresh = join(dir, 'logs', 'fresh.jsonl');
    fileLogger(fresh).info('x');
    expect(statSync(fresh).mode & 0o777).toBe(LOG_FILE_MODE);
    const old = join(dir, 'old.jsonl');
    writeFileSync(old, '', { mode: 0o644 });
    fileLogger(old).info('x');
    expect(statSync(old).mode & 0o777).toBe(0o600);
  });

  it('holds no URL password, in fields, errors or messages', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kexp-log-')), 'run.jsonl');
    const logger = fileLogger(file);
    logger.info({ argv: ['run', '--redis=redis://:s3cr/t@lab1:6379'] }, 'start');
    logger.warn({ err: new Error('connect redis://u:s3cr/t@lab1 refused') }, 'failed');
    logger.info('said Redis at redis://:s3cr/t@lab1:6379 once');
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(3);
    expect(text).not.toContain('s3cr');
    expect(text).toContain('redis://:***@lab1:6379');
    expect(text).toContain('redis://u:***@lab1 refused');
  });
});
