// The one line that ties this app to a gatehouse checkout (made by `gatehouse init`): the app API, as compiled there.
// If you move this directory or the checkout, fix the path (or run `gatehouse init` again in a new directory).
export * from '__GATEHOUSE__/dist/server/app-kit.js';
