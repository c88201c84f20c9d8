/**
 * Writes a synthetic customer table (Telco-like columns, one row per customer) for measuring the
 * streamed `import table`: `npx tsx bench/syntheticTable.ts scratch/big.csv 1000000` (about 70 MB).
 * Write it under the gitignored scratch/: benchmark data is never committed.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const [file, rowsArg = '1000000'] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/syntheticTable.ts OUT.csv [ROWS]');
const rows = Number(rowsArg);
const out = createWriteStream(file);
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'];
out.write('customerID,gender,SeniorCitizen,Partner,tenure,Contract,PaymentMethod,MonthlyCharges,TotalCharges,Churn\n');
for (let i = 0; i < rows; i++) {
  const tenure = i % 72;
  const line = [
    `C${String(i).padStart(8, '0')}`,
    i % 2 ? 'Male' : 'Female',
    i % 7 === 0 ? 1 : 0,
    i % 3 ? 'Yes' : 'No',
    tenure,
    CONTRACTS[i % 3],
    'Electronic check',
    (20 + (i % 100)).toFixed(2),
    (tenure * 50.5).toFixed(2),
    i % 4 === 0 ? 'Yes' : 'No',
  ].join(',');
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}
out.end();
await once(out, 'finish');
console.log(`${rows} rows written to ${file}`);
