// Prints the plain `Tests: N passed, N failed` line that CI reads, from vitest's JSON report and,
// when given, the artifact tier's TAP report (Node's test runner: `# pass N`, `# fail N`).
import { readFileSync } from 'node:fs';

const [vitestFile = 'test-artifacts/vitest.json', tapFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(readFileSync(vitestFile, 'utf8'));
  passed += report.numPassedTests ?? 0;
  // A suite that fails to load counts as a failure even though none of its tests ran.
  failed += (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
} catch (error) {
  console.log(`no test report at ${vitestFile}: ${error.message}`);
  failed += 1;
}
if (tapFile) {
  try {
    const tap = readFileSync(tapFile, 'utf8');
    const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? Number.NaN);
    const [tapPassed, tapFailed] = [count('pass'), count('fail')];
    if (Number.isNaN(tapPassed) || Number.isNaN(tapFailed)) throw new Error('no "# pass" / "# fail" summary (the run stopped early)');
    passed += tapPassed;
    failed += tapFailed;
  } catch (error) {
    console.log(`no complete artifact test report at ${tapFile}: ${error.message}`);
    failed += 1;
  }
}
console.log(`Tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
