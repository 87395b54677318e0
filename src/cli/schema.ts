// `pfexpose schema`: prints the manifest schema this pfexpose validates with, or with --path where
// it is installed, so that an editor in any repository can use the schema of the installed version
// (a modeline or a `yaml.schemas` entry pointing at the path, or a copy of the text).
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { CliContext } from './context.js';
import { OUTPUT_SCHEMAS, outputSchemaPath, SCHEMA_PATH, type OutputSchema } from './schema-ref.js';

interface SchemaFlags {
  path?: boolean;
  output?: OutputSchema;
}

export function registerSchema(program: Command, ctx: CliContext): void {
  program
    .command('schema')
    .description('print the manifest JSON Schema (draft 2020-12) that editors use, or its installed path')
    .option('--path', 'print the absolute path of the installed schema file instead of its text')
    .addOption(
      new Option(
        '--output <name>',
        'the JSON Schema of an output instead (schema/output/NAME.schema.json; defs: what they share)',
      ).choices(OUTPUT_SCHEMAS),
    )
    .addHelpText(
      'after',
      '\nEditors with yaml-language-server read it from a modeline at the top of each YAML document:\n' +
        "  # yaml-language-server: $schema=<the path --path prints, or the schema's $id URL>\n" +
        'Exit codes: 0 printed, 1 the installed schema cannot be read, 2 usage.\n',
    )
    .action(async (flags: SchemaFlags) => {
      const path = flags.output === undefined ? SCHEMA_PATH : outputSchemaPath(flags.output);
      if (flags.path === true) {
        ctx.stdout.write(`${path}\n`);
        return;
      }
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        ctx.stderr.write(`pfexpose: cannot read the installed schema ${path} (${reason}): reinstall pfexpose\n`);
        ctx.exitCode = 1;
        return;
      }
      ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}
