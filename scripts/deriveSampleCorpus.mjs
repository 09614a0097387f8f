#!/usr/bin/env node
// Derives the shipped sample corpus from the HotpotQA dev data in ../shared/data: the first N
// questions of the official dev-distractor file, in the same format, so `reckon ingest` treats
// each context paragraph as a document. Usage: node scripts/deriveSampleCorpus.mjs [N=20]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.resolve(root, '../shared/data/hotpotqa/dev_distractor_official_first53.json');
const count = Number(process.argv[2] ?? 20);
const records = JSON.parse(fs.readFileSync(source, 'utf8')).slice(0, count);
const out = path.join(root, 'corpora/hotpotqa-sample/hotpotqa-dev-first20.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(records, null, 1) + '\n');
console.log(`wrote ${records.length} questions to ${path.relative(root, out)}`);
