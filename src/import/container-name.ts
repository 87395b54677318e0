// Checks a name an imported file gives a container against the manifest's rule for container
// names (the schema's containerName), so an import never writes a manifest that fails on its name.
import { quoteText } from '../text/quote-text.js';

const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** Why text cannot be a container name, or null when it can. */
export function describeContainerNameProblem(text: string): string | null {
  if (CONTAINER_NAME.test(text)) return null;
  if (text === '') return 'the container name is empty';
  if (text.length > 32) return `container name ${quoteText(text)} is longer than 32 characters: use a shorter name`;
  return `container name ${quoteText(text)} must start with a letter or digit and hold only letters, digits, "_", "." and "-"`;
}
