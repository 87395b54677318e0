// Writes one imported container as a manifest: a header naming the source, then `version: 1` and
// the container with its keys in a fixed order. Ports are printed by the port grammar's own
// printer in the container's syntax, so reading the manifest back gives the same PortSpecs.
import { Document, isMap, isSeq } from 'yaml';
import { printPortSpec } from '../ports/print-port-spec.js';
import type { ImportedContainer } from './imported-container.js';

export interface RenderOptions {
  /** `compose`, `bastille`, ...: named in the header. */
  format: string;
  /** The source file as the command line named it. */
  file: string;
  /** The schema for the yaml-language-server modeline; none when null. */
  schemaRef: string | null;
}

export function renderManifest(container: ImportedContainer, options: RenderOptions): string {
  const body: Record<string, unknown> = {};
  if (container.syntax === 'docker') body.syntax = 'docker';
  if (container.ip !== null) body.ip = container.ip.text;
  if (container.ip6 !== null) body.ip6 = container.ip6.text;
  if (container.stack !== null) body.stack = container.stack;
  if (container.ports.length > 0) body.ports = container.ports.map((port) => printPortSpec(port.spec));
  if (container.expose.length > 0) body.expose = [...container.expose];
  if (container.publishAll) body.publishAll = true;
  if (container.links.length > 0) {
    body.links = container.links.map((link) =>
      link.alias === null ? link.container : `${link.container}:${link.alias}`,
    );
  }
  const document = new Document({ version: 1, containers: { [container.name]: body } }, { version: '1.2' });
  // Short lists of names read best on one line, as the examples write them.
  for (const key of ['expose', 'links']) {
    const node = document.getIn(['containers', container.name, key], true);
    if (isSeq(node)) node.flow = true;
  }
  const ports = document.getIn(['containers', container.name, 'ports'], true);
  if (isSeq(ports)) {
    for (const entry of ports.items) {
      if (!isMap(entry)) continue;
      for (const pair of entry.items) if (isSeq(pair.value)) pair.value.flow = true;
    }
  }
  const header = [
    ...(options.schemaRef === null ? [] : [`# yaml-language-server: $schema=${options.schemaRef}`]),
    `# Imported by \`pfexpose import ${options.format}\` from ${options.file} (${container.origin}).`,
  ];
  return `${header.join('\n')}\n${document.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}
