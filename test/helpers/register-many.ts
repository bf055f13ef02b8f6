// Child process for the concurrency test: registers `count` models under one name.
import { ModelRepository } from '../../core/store/model-repository.ts'

const [dir, name, count, seed] = process.argv.slice(2)
const repository = new ModelRepository(dir!)
for (let i = 0; i < Number(count); i++) {
  await repository.register(name!, new TextEncoder().encode(`model ${seed} ${i}`), { tags: [`writer-${seed}`] })
}
repository.close()
