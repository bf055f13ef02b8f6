#!/usr/bin/env node
// `npm run pack [-- --out DIR]`: the publishable package, compiled. The checkout runs its
// TypeScript sources (bin/ and tests need no build); the package ships JavaScript and .d.ts in
// dist/, with `exports` pointing there, so plain Node can import inferbench/plugin. Built in a
// staging folder, so the checkout's package.json is never rewritten (tests may be running).
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outFlag = process.argv.indexOf('--out')
const out = resolve(outFlag > 0 ? process.argv[outFlag + 1] : root)
const stage = mkdtempSync(join(tmpdir(), 'inferbench-pack-'))
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], { stdio: 'inherit' })
  // What tsc does not copy: worker scripts and protocol definitions, loaded by path at run time.
  for (const file of walk(join(root, 'plugins'))) {
    if (/\.(mjs|proto)$/.test(file)) {
      const target = join(stage, 'dist', relative(root, file))
      mkdirSync(dirname(target), { recursive: true })
      cpSync(file, target)
    }
  }
  for (const path of ['bin', 'docs', 'README.md', 'LICENSE']) cpSync(join(root, path), join(stage, path), { recursive: true })
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const toDist = (source) => `./dist/${source.replace(/^\.\//, '').replace(/\.ts$/, '.js')}`
  manifest.exports = Object.fromEntries(Object.entries(manifest.exports).map(([key, value]) => [key, typeof value === 'string' ? value : {
    types: toDist(value.default).replace(/\.js$/, '.d.ts'),
    default: toDist(value.default),
  }]))
  manifest.files = ['bin', 'dist', 'docs', 'README.md', 'LICENSE']
  delete manifest.scripts
  delete manifest.devDependencies
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8' })
  const [{ filename }] = JSON.parse(packed)
  process.stdout.write(`${join(out, filename)}\n`)
} finally {
  rmSync(stage, { recursive: true, force: true })
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* walk(path)
    else yield path
  }
}
