import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * Reads what `cdk synth` wrote (a cloud assembly: manifest.json, the stack template, the asset
 * manifest and the asset folders) the way the deploy would use it: each zip function's code is the
 * asset folder its `Code.S3Key` names, and its environment is the template's, references included.
 */

const Manifest = z.object({
  artifacts: z.record(z.string(), z.object({ type: z.string(), properties: z.record(z.string(), z.unknown()).optional() })),
});
const AssetManifest = z.object({
  files: z.record(z.string(), z.object({ source: z.object({ path: z.string(), packaging: z.string().optional() }) })).default({}),
  dockerImages: z
    .record(z.string(), z.object({ source: z.object({ directory: z.string(), dockerFile: z.string().optional() }) }))
    .default({}),
});
const TemplateResource = z.object({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  Metadata: z.record(z.string(), z.unknown()).optional(),
});
export const Template = z.object({ Resources: z.record(z.string(), TemplateResource) });
export type Template = z.output<typeof Template>;
export type TemplateResource = z.output<typeof TemplateResource>;

const FunctionProperties = z.object({
  Handler: z.string(),
  Runtime: z.string(),
  MemorySize: z.number().int(),
  Timeout: z.number().int(),
  Architectures: z.array(z.string()).default(['x86_64']),
  Code: z.object({ S3Key: z.string() }),
  Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }).optional(),
});

/** A zip function as it would be deployed. */
export interface DeployedFunction {
  logicalId: string;
  /** The construct path, e.g. `Churnguard/Ingest/Handler/Resource`. */
  constructPath: string;
  handler: string;
  runtime: string;
  memorySize: number;
  timeoutSeconds: number;
  architecture: string;
  /** Variables as the template has them: strings, or CloudFormation references. */
  environment: Record<string, unknown>;
  /** The folder that is zipped and uploaded as the function's code. */
  assetDir: string;
}

/** A container image function: its Docker build context as CDK staged it, and its template settings. */
export interface ImageFunction {
  logicalId: string;
  constructPath: string;
  memorySize: number;
  timeoutSeconds: number;
  environment: Record<string, unknown>;
  /** The staged build context (the repository narrowed by .dockerignore). */
  contextDir: string;
  dockerFile: string;
}

export interface CloudAssembly {
  outdir: string;
  template: Template;
  functions: DeployedFunction[];
  images: ImageFunction[];
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

/** Reads the one stack of the assembly in `outdir`. */
export function readCloudAssembly(outdir: string): CloudAssembly {
  const manifest = Manifest.parse(readJson(path.join(outdir, 'manifest.json')));
  const artifacts = Object.values(manifest.artifacts);
  const stacks = artifacts.filter((artifact) => artifact.type === 'aws:cloudformation:stack');
  if (stacks.length !== 1) throw new Error(`${outdir}: expected one stack, found ${stacks.length}`);
  const templateFile = z.string().parse(stacks[0]?.properties?.templateFile);
  const template = Template.parse(readJson(path.join(outdir, templateFile)));
  const assetFiles = artifacts
    .filter((artifact) => artifact.type === 'cdk:asset-manifest')
    .map((artifact) => AssetManifest.parse(readJson(path.join(outdir, z.string().parse(artifact.properties?.file)))));
  const assetDirByKey = new Map<string, string>();
  const imageByHash = new Map<string, { directory: string; dockerFile: string }>();
  for (const { files, dockerImages } of assetFiles) {
    for (const [hash, file] of Object.entries(files)) {
      if (file.source.packaging === 'zip') assetDirByKey.set(`${hash}.zip`, path.join(outdir, file.source.path));
    }
    for (const [hash, image] of Object.entries(dockerImages)) {
      imageByHash.set(hash, { directory: path.join(outdir, image.source.directory), dockerFile: image.source.dockerFile ?? 'Dockerfile' });
    }
  }
  const functions: DeployedFunction[] = [];
  const images: ImageFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    if (resource.Properties?.PackageType === 'Image') {
      const uri = JSON.stringify(resource.Properties.Code);
      const hash = [...imageByHash.keys()].find((candidate) => uri.includes(candidate));
      const image = hash === undefined ? undefined : imageByHash.get(hash);
      if (!image) throw new Error(`${logicalId}: no staged Docker build context for ${uri}`);
      const props = z
        .object({ MemorySize: z.number(), Timeout: z.number(), Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }) })
        .parse(resource.Properties);
      images.push({
        logicalId,
        constructPath: String(resource.Metadata?.['aws:cdk:path'] ?? logicalId),
        memorySize: props.MemorySize,
        timeoutSeconds: props.Timeout,
        environment: props.Environment.Variables,
        contextDir: image.directory,
        dockerFile: image.dockerFile,
      });
      continue;
    }
    const props = FunctionProperties.parse(resource.Properties);
    const assetDir = assetDirByKey.get(props.Code.S3Key);
    if (!assetDir) throw new Error(`${logicalId}: no zip asset for ${props.Code.S3Key}`);
    functions.push({
      logicalId,
      constructPath: String(resource.Metadata?.['aws:cdk:path'] ?? logicalId),
      handler: props.Handler,
      runtime: props.Runtime,
      memorySize: props.MemorySize,
      timeoutSeconds: props.Timeout,
      architecture: props.Architectures[0] ?? 'x86_64',
      environment: props.Environment?.Variables ?? {},
      assetDir,
    });
  }
  return { outdir, template, functions, images };
}

/** The function whose construct path starts with `prefix`, e.g. `Churnguard/Ingest/Handler`. */
export function deployedFunction(assembly: CloudAssembly, prefix: string): DeployedFunction {
  const found = assembly.functions.find((fn) => fn.constructPath.startsWith(`${prefix}/`));
  if (!found)
    throw new Error(`no zip function under ${prefix} in ${assembly.outdir} (have ${assembly.functions.map((f) => f.constructPath)})`);
  return found;
}

/** Resources of one type, by logical id. */
export const resourcesOfType = (template: Template, type: string): Array<[string, TemplateResource]> =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

/** The input a schedule sends its target, with the Scheduler's `<aws.scheduler.scheduled-time>` filled in. */
export function scheduleInput(template: Template, constructPathPrefix: string, scheduledTime: string): unknown {
  const schedule = resourcesOfType(template, 'AWS::Scheduler::Schedule').find(([, resource]) =>
    String(resource.Metadata?.['aws:cdk:path'] ?? '').startsWith(constructPathPrefix),
  );
  if (!schedule) throw new Error(`no schedule under ${constructPathPrefix}`);
  const input = z.object({ Target: z.object({ Input: z.string() }) }).parse(schedule[1].Properties).Target.Input;
  return JSON.parse(input.replaceAll('<aws.scheduler.scheduled-time>', scheduledTime));
}
