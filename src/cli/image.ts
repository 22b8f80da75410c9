import type { Command } from 'commander';
import { buildImage, type GuestImage } from '../image/image.js';
import { shortKey } from '../core/hash.js';
import { action, type Registrar } from './action.js';
import { ensureHostReady, workspace } from './context.js';
import type { ImageJson } from './json-output.js';
import { createProgress } from './progress.js';

/** What kexp image --json prints (schemas/image.v1.schema.json). */
export function imageJson(image: GuestImage): ImageJson {
  return { key: image.key, initramfs: image.initramfs, cached: image.cached, workloads: image.workloads, seconds: image.seconds };
}

export const registerImage: Registrar = (program: Command) => {
  program
    .command('image')
    .description('build the guest initramfs (busybox, static workloads, agent) or take it from the store; print its path')
    .option('--json', 'print {key, initramfs, cached, workloads, seconds} on stdout (schemas/image.v1.schema.json)')
    .action(
      action('image', async (ctx) => {
        await ensureHostReady(ctx);
        const progress = createProgress(true);
        const image = await buildImage({ ...workspace(ctx), onStage: (s) => progress.update(`image: ${s}`) });
        progress.succeed(
          `image ${shortKey(image.key)}: ${image.cached ? 'from the store' : `built in ${image.seconds.toFixed(1)} s`} (workloads: ${image.workloads.join(', ')})`,
        );
        if (ctx.json) ctx.out(JSON.stringify(imageJson(image)));
        else ctx.out(image.initramfs);
        return 0;
      }),
    );
};
