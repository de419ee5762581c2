/**
 * CodePipeline's Git-like source providers, and how each one's configuration becomes the
 * configuration of Sluice's `Source/Sluice/Git@1` (Repository, Branch, DetectChanges).
 */
export interface SourceProviderRule {
  provider: string;
  owners: readonly string[];
  /** The configuration keys Repository is built from. */
  repositoryKeys: readonly string[];
  /** The clone URL, or undefined when the configuration lacks the keys it needs. */
  repository(configuration: Readonly<Record<string, string>>): string | undefined;
  /** What the user should know about the Repository the import derived. */
  repositoryNote: string;
  branchKey: string;
}

export const SOURCE_PROVIDER_RULES: readonly SourceProviderRule[] = [
  {
    provider: "CodeCommit",
    owners: ["AWS"],
    repositoryKeys: ["RepositoryName"],
    repository: (c) => c["RepositoryName"],
    repositoryNote:
      "RepositoryName is a CodeCommit repository name, copied into Repository as is; set Repository to the repository's clone URL.",
    branchKey: "BranchName",
  },
  {
    provider: "GitHub",
    owners: ["ThirdParty"],
    repositoryKeys: ["Owner", "Repo"],
    repository: (c) =>
      c["Owner"] !== undefined && c["Repo"] !== undefined
        ? `https://github.com/${c["Owner"]}/${c["Repo"]}.git`
        : undefined,
    repositoryNote: "Owner and Repo become Repository, the GitHub clone URL.",
    branchKey: "Branch",
  },
  {
    provider: "CodeStarSourceConnection",
    owners: ["AWS"],
    repositoryKeys: ["FullRepositoryId"],
    repository: (c) =>
      c["FullRepositoryId"] !== undefined ? `https://github.com/${c["FullRepositoryId"]}.git` : undefined,
    repositoryNote:
      "FullRepositoryId becomes a GitHub clone URL: the connection's host is assumed to be GitHub (correct Repository for Bitbucket or GitLab); ConnectionArn is kept in awsMetadata.",
    branchKey: "BranchName",
  },
  {
    provider: "Bitbucket",
    owners: ["AWS", "ThirdParty"],
    repositoryKeys: ["FullRepositoryId"],
    repository: (c) =>
      c["FullRepositoryId"] !== undefined ? `https://bitbucket.org/${c["FullRepositoryId"]}.git` : undefined,
    repositoryNote: "FullRepositoryId becomes Repository, the Bitbucket clone URL.",
    branchKey: "BranchName",
  },
];

export function findSourceProviderRule(owner: string, provider: string): SourceProviderRule | undefined {
  return SOURCE_PROVIDER_RULES.find((rule) => rule.provider === provider && rule.owners.includes(owner));
}
