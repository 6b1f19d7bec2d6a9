/** The layer table is enforced by lint: each fixture breaks one rule and must fail. */
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers/reference';

const eslint = new ESLint({ cwd: join(FIXTURES, '..', '..') });

async function lintAs(fixture: string, filePath: string) {
  const code = readFileSync(join(FIXTURES, 'lint', fixture), 'utf8');
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId);
}

describe('layer zones', () => {
  it('core may not import ui', async () => {
    expect(await lintAs('core-imports-ui.ts', 'src/core/zone-fixture.ts')).toContain('import-x/no-restricted-paths');
  });
  it('the same import is fine from ui itself', async () => {
    expect(await lintAs('core-imports-ui.ts', 'src/ui/zone-fixture.ts')).not.toContain('import-x/no-restricted-paths');
  });
  it('onnx may not use the network', async () => {
    expect(await lintAs('onnx-uses-fetch.ts', 'src/onnx/zone-fixture.ts')).toContain('no-restricted-globals');
  });
  it('ui hooks follow the rules of hooks', async () => {
    expect(await lintAs('ui-conditional-hook.tsx', 'src/ui/zone-fixture.tsx')).toContain('react-hooks/rules-of-hooks');
  });
  it('ui may not import the runtime directly', async () => {
    expect(await lintAs('ui-imports-runtime.ts', 'src/ui/zone-fixture.ts')).toContain('import-x/no-restricted-paths');
  });
  it('the pure data layer may not import the runtime', async () => {
    expect(await lintAs('data-imports-runtime.ts', 'src/data/zone-fixture.ts')).toContain(
      'import-x/no-restricted-paths',
    );
  });
  it('the command line reaches onnxruntime only through the runtime', async () => {
    expect(await lintAs('cli-imports-onnxruntime.ts', 'src/cli/zone-fixture.ts')).toContain('no-restricted-imports');
  });
  it('an unformatted file fails lint (Prettier, .prettierrc.json)', async () => {
    expect(await lintAs('unformatted.ts', 'src/core/format-fixture.ts')).toContain('prettier/prettier');
  });
});
