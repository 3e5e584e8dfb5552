// js-yaml ships without types here (it comes in through @pulumi/pulumi); the tests only need load().
declare module "js-yaml" {
  export function load(input: string): unknown;
}
