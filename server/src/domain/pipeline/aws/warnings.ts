/**
 * The import reports every mapping it makes as a warning with the path of the AWS field it read
 * (relative to the pipeline declaration, the same paths validatePipeline reports). Warnings are
 * kept apart from validation issues: they never stop an import.
 */
export interface AwsImportWarning {
  path: string;
  message: string;
}

export class WarningList {
  readonly items: AwsImportWarning[] = [];

  add(path: string, message: string): void {
    this.items.push({ path, message });
  }
}
