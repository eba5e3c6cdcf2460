// TypeDoc plugin for `pnpm run docs`: names each module after its package (`@luaipc/shm`, not
// `shm/src`; `@luaipc/native/args`) instead of after its entry point's path.
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const m = /^(\w+)(?:\/src)?(?:\/(\w+))?$/.exec(module.name);
      if (m === null) continue;
      module.name = m[1] === 'native' || m[2] ? `@luaipc/${m[1]}/${m[2] ?? ''}` : `@luaipc/${m[1]}`;
    }
  });
}
