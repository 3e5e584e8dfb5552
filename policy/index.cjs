// CommonJS entry that Pulumi's policy runner loads (package.json "main").
//
// `pulumi preview --policy-pack policy` starts the pack through the Node language host's RunPlugin
// (github.com/pulumi/pulumi, sdk/nodejs/cmd/pulumi-language-nodejs/main.go): the command is
// `node …/@pulumi/pulumi/cmd/run-policy-pack <nodeargs> <engine address> <pack folder>` in the pack folder,
// so `nodeargs` come after the script and never reach Node. run-policy-pack (sdk/nodejs/cmd/run-policy-pack)
// always registers its bundled ts-node, whatever `typescript:` says, then require()s this folder and awaits
// the exported value. ts-node cannot load this ESM TypeScript, so this file (plain CommonJS, which ts-node
// leaves alone) registers tsx, the loader the program uses, imports the pack and exports the promise of that import:
// a failure to load rejects it and run-policy-pack reports it. test/infra/policy.test.ts starts the pack
// exactly this way and calls its gRPC Analyze.
// Importing "tsx" is what `node --import tsx` does (it registers tsx's module hooks); tsx's CommonJS
// `tsx/esm/api` is not used: in tsx 4.23 it resolves its own hook file wrongly (esm/api/esm/index.mjs).
module.exports = import("tsx").then(() => import("./index.ts"));
