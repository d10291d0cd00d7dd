//===- Executable.cpp - calling compiled entry points -----------------------===//
//
// Packs tensors into MLIR memref descriptors, calls the packed entry point
// and turns the returned descriptors (malloc'ed buffers the caller owns)
// into Tensors.
//
//===----------------------------------------------------------------------===//

#include "runtime/Executable.h"
#include "runtime/Outputs.h"

#include "runtime/Parallel.h"

#include "runtime/Contracts.h"
#include "runtime/Cuda.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dlc::runtime;
namespace contract = dlc::contract;

namespace {
/// The seed and the batch offset are i64 scalars passed by value (ArgValue's
/// i64), not tensors.
bool isScalarI64(const ValueSpec &arg) {
  return arg.role == contract::kRoleSeed || arg.role == contract::kRoleBatchOffset;
}
} // namespace

Executable::Executable(ModelSpec spec,
                       std::map<std::string, PackedFunction> functions,
                       std::shared_ptr<void> keepAlive)
    : spec_(std::move(spec)), functions_(std::move(functions)),
      keepAlive_(std::move(keepAlive)) {}

namespace {
/// Reads `size` bytes at `offset`; false if the file is shorter.
bool readAt(int fd, void *dst, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, static_cast<char *>(dst) + done, size - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

/// Whether [offset, offset + size) lies within a file of `fileSize` bytes.
bool within(uint64_t offset, uint64_t size, uint64_t fileSize) {
  return offset <= fileSize && size <= fileSize - offset;
}
} // namespace

Status dlc::runtime::checkSharedObject(const std::string &path) {
  auto fail = [&](auto &&...parts) -> Status {
    return makeError(path, ": cannot load compiled module: ", parts...);
  };
  uint64_t fileSize = 0;
  auto opened = openRegularFile(path, &fileSize);
  if (!opened.ok())
    return fail(opened.status().message());
  int fd = *opened;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  Elf64_Ehdr eh;
  if (!readAt(fd, &eh, sizeof(eh), 0))
    return fail("truncated ELF header (", fileSize, " bytes)");
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return fail("no ELF magic");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_DYN)
    return fail("not a 64-bit ELF shared object");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
      !within(eh.e_phoff, uint64_t(eh.e_phnum) * sizeof(Elf64_Phdr), fileSize))
    return fail("program headers beyond the end of the file (", fileSize,
                " bytes): truncated?");
  if (eh.e_shnum != 0 &&
      (eh.e_shentsize != sizeof(Elf64_Shdr) ||
       !within(eh.e_shoff, uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr), fileSize)))
    return fail("section headers beyond the end of the file (", fileSize,
                " bytes): truncated?");
  // Every segment and section that has bytes in the file must lie in it:
  // dlopen maps a cut-short file without complaint, and touching the missing
  // pages later is a SIGBUS.
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!readAt(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) ||
        !within(ph.p_offset, ph.p_filesz, fileSize))
      return fail("segment ", i, " extends beyond the end of the file (",
                  fileSize, " bytes): truncated?");
  }
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!readAt(fd, &sh, sizeof(sh), eh.e_shoff + i * sizeof(sh)) ||
        (sh.sh_type != SHT_NOBITS && !within(sh.sh_offset, sh.sh_size, fileSize)))
      return fail("section ", i, " extends beyond the end of the file (",
                  fileSize, " bytes): truncated?");
  }
  return Status::success();
}

StatusOr<std::unique_ptr<Executable>>
Executable::loadShared(const std::string &path) {
  if (Status checked = checkSharedObject(path); !checked.ok())
    return checked;
  // The module's parallel loops call the runtime's OpenMP entry points.
  exportRuntimeSymbols();
  // A bare file name would go through the library search path: load the
  // file the caller named.
  std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError(path, ": cannot load compiled module: ", dlerror());
  std::shared_ptr<void> keep(handle, [](void *h) { dlclose(h); });
  auto *json = static_cast<const char *const *>(
      dlsym(handle, contract::kModelSpecSymbol));
  if (!json)
    return makeError(path, ": not a dlc module (no ",
                     contract::kModelSpecSymbol, " symbol)");
  auto spec = ModelSpec::fromJSON(*json);
  if (!spec.ok())
    return spec.status().withPrefix(path + ": ");
  // Loading ran the module's constructors, which load a GPU module's
  // kernels.
  if (spec->device == contract::kDeviceCUDA)
    if (Status st = cuda::takeError(); !st.ok())
      return st.withPrefix(path + ": ");
  std::map<std::string, PackedFunction> fns;
  for (const EntrySpec &e : spec->entries) {
    void *fn = dlsym(handle, (contract::kEntryWrapperPrefix + e.name).c_str());
    if (!fn)
      return makeError(path, ": entry point '", e.name, "' is missing");
    fns[e.name] = reinterpret_cast<PackedFunction>(fn);
  }
  return std::make_unique<Executable>(std::move(*spec), std::move(fns), keep);
}

StatusOr<std::vector<Tensor>>
Executable::call(const std::string &name, const std::vector<ArgValue> &args) const {
  const EntrySpec *entry = spec_.findEntry(name);
  auto fn = functions_.find(name);
  if (!entry || fn == functions_.end())
    return makeError("the compiled module has no entry point '", name, "'");
  if (args.size() != entry->args.size())
    return makeError("entry point '", name, "' expects ", entry->args.size(),
                     " arguments, got ", args.size());

  // Check every argument; bind dimension symbols of inputs.
  std::map<std::string, std::pair<int64_t, std::string>> symbols;
  for (size_t i = 0; i < args.size(); ++i) {
    const ValueSpec &vs = entry->args[i];
    if (isScalarI64(vs))
      continue;
    const Tensor *t = args[i].tensor;
    if (!t)
      return makeError("argument '", vs.name, "' of '", name, "' is missing");
    const InputSpec *input =
        vs.role == contract::kRoleInput ? spec_.findInput(vs.name) : nullptr;
    // The declared type as the user wrote it: symbols instead of -1.
    auto declared = [&] {
      std::string s = std::string(dtypeName(vs.dtype)) + "[";
      for (size_t d = 0; d < vs.shape.size(); ++d) {
        if (d)
          s += ", ";
        if (vs.shape[d] < 0 && input && d < input->dimNames.size())
          s += input->dimNames[d];
        else
          s += vs.shape[d] < 0 ? "?" : std::to_string(vs.shape[d]);
      }
      return s + "]";
    };
    if (t->dtype() != vs.dtype || t->rank() != (int64_t)vs.shape.size())
      return makeError("cannot feed ", t->typeString(), " to ", vs.role, " '",
                       vs.name, "' of type ", declared());
    for (size_t d = 0; d < vs.shape.size(); ++d) {
      if (vs.shape[d] >= 0 && vs.shape[d] != t->dim(d))
        return makeError("cannot feed ", t->typeString(), " to ", vs.role, " '",
                         vs.name, "' of type ", declared());
      if (vs.shape[d] < 0 && input && d < input->dimNames.size()) {
        const std::string &sym = input->dimNames[d];
        auto [it, fresh] = symbols.try_emplace(sym, t->dim(d), vs.name);
        if (!fresh && it->second.first != t->dim(d))
          return makeError("symbol '", sym, "' is ", it->second.first,
                           " in input '", it->second.second, "' but ", t->dim(d),
                           " in input '", vs.name, "'");
      }
    }
  }

  // A GPU module reads its arguments on the device: tensors in host memory
  // (a batch, params before the first step) are copied into device memory
  // for the call; what earlier calls returned is there already.
  bool onDevice = spec_.device == contract::kDeviceCUDA;
  if (onDevice)
    if (Status st = cuda::takeError(); !st.ok())
      return st;
  std::vector<Tensor> staged(args.size());
  std::vector<std::unique_ptr<void, void (*)(void *)>> deviceSeeds;
  auto deviceCopy = [&](size_t i, const void *data, size_t bytes, DType dtype,
                        std::vector<int64_t> shape) -> Status {
    void *p = cuda::allocate(bytes, entry->args[i].name.c_str());
    if (!p)
      return cuda::takeError();
    staged[i] = Tensor::adopt(dtype, std::move(shape), p, cuda::release);
    cuda::copyToDevice(p, data, bytes); // ahead of the kernels that read it
    return Status::success();
  };

  // An in-place entry overwrites its param and state arguments: those the
  // caller did not pass for update are copied for the call.
  std::vector<int> inPlaceArg(entry->results.size(), -1);
  std::vector<bool> copied(args.size(), false);
  for (size_t r = 0; r < entry->results.size(); ++r)
    inPlaceArg[r] = entry->inPlaceArg(r);
  for (int i : inPlaceArg)
    if (i >= 0 && !args[i].updated) {
      auto copy = Tensor::allocate(args[i].tensor->dtype(), args[i].tensor->shape());
      if (!copy.ok())
        return copy.status().withPrefix("a copy of argument '" + entry->args[i].name + "': ");
      if (args[i].tensor->byteSize())
        std::memcpy(copy->rawData(), args[i].tensor->rawData(), args[i].tensor->byteSize());
      staged[i] = std::move(*copy);
      copied[i] = true;
    }

  // Descriptors live in one vector each; args[i] points at descriptor i.
  std::vector<std::vector<int64_t>> descriptors(args.size());
  std::vector<int64_t> seeds(args.size());
  std::vector<void *> packed;
  for (size_t i = 0; i < args.size(); ++i) {
    if (isScalarI64(entry->args[i])) {
      seeds[i] = args[i].i64;
      int64_t *p = &seeds[i];
      if (onDevice) {
        void *d = cuda::allocate(sizeof(int64_t), "the step's seed");
        if (!d)
          return cuda::takeError();
        std::memcpy(d, p, sizeof(int64_t));
        deviceSeeds.emplace_back(d, cuda::release);
        p = static_cast<int64_t *>(d);
      }
      descriptors[i] = {reinterpret_cast<int64_t>(p), reinterpret_cast<int64_t>(p), 0};
    } else {
      const Tensor *t = args[i].tensor;
      if (copied[i])
        t = &staged[i];
      else if (onDevice && t->rawData() && !t->releasedWith(cuda::release)) {
        if (Status st = deviceCopy(i, t->rawData(), t->byteSize(), t->dtype(), t->shape());
            !st.ok())
          return st;
        t = &staged[i];
      }
      appendMemRefDescriptor(const_cast<Tensor &>(*t), descriptors[i]);
    }
    packed.push_back(descriptors[i].data());
  }
  size_t resultWords = 0;
  for (const ValueSpec &r : entry->results)
    resultWords += memRefDescriptorWords(r.shape.size());
  std::vector<int64_t> resultStorage(resultWords, 0);
  if (!entry->results.empty())
    packed.push_back(resultStorage.data());
  // A buffer the compiled code cannot allocate ends the call with an error
  // (nothing was returned: no result to free).
  if (onDevice)
    cuda::beginCall();
  Status called = callCompiled(fn->second, packed.data(), spec_.regionShares);
  if (onDevice)
    cuda::endCall(!called.ok()); // waits; a failed call's buffers go back
  if (!called.ok()) {
    if (onDevice)
      (void)cuda::takeError(); // reported here, not by the next call
    return called.withPrefix(name + ": ");
  }
  void (*release)(void *) = onDevice ? cuda::release : std::free;
  Status failed = onDevice ? cuda::takeError() : Status::success();

  // One buffer may back several results (CSE merges equal results, and a
  // gradient may be returned twice): the first adoptable use takes it, the
  // others copy, and buffers not adopted are freed once, after all copies.
  std::vector<Tensor> results;
  std::set<void *> seen;
  std::vector<void *> toFree;
  // The arguments moved into results, given back if the call fails after.
  std::vector<std::pair<size_t, size_t>> moved;
  size_t at = 0;
  for (const ValueSpec &r : entry->results) {
    const int64_t *w = resultStorage.data() + at;
    size_t rank = r.shape.size();
    at += memRefDescriptorWords(rank);
    void *allocated = reinterpret_cast<void *>(w[0]);
    // Written into its argument: the argument's tensor is the result.
    if (int i = inPlaceArg[results.size()];
        i >= 0 && allocated == reinterpret_cast<void *>(descriptors[i][0])) {
      seen.insert(allocated);
      Tensor &from = args[i].updated ? *args[i].updated : staged[i];
      moved.emplace_back(results.size(), i);
      results.push_back(std::move(from));
      continue;
    }
    char *aligned = reinterpret_cast<char *>(w[1]);
    int64_t offset = w[2];
    std::vector<int64_t> shape(w + 3, w + 3 + rank);
    bool contiguous = true;
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
      if (shape[d] != 1 && w[3 + rank + d] != stride)
        contiguous = false;
      stride *= shape[d];
    }
    bool first = seen.insert(allocated).second;
    if (first && contiguous && offset == 0 && aligned == allocated) {
      results.push_back(Tensor::adopt(r.dtype, std::move(shape), allocated, release));
      continue;
    }
    if (first)
      toFree.push_back(allocated);
    auto copy = Tensor::allocate(r.dtype, shape);
    if (!copy.ok()) {
      if (failed.ok())
        failed = copy.status().withPrefix("result '" + r.name + "' of " + name + ": ");
      continue;
    }
    Tensor t = std::move(*copy);
    size_t elem = dtypeSize(r.dtype);
    if (contiguous) {
      std::memcpy(t.rawData(), aligned + offset * elem, t.byteSize());
    } else {
      // General strided copy, element by element.
      std::vector<int64_t> idx(rank, 0);
      for (int64_t n = 0; n < t.numElements(); ++n) {
        int64_t src = offset;
        for (size_t d = 0; d < rank; ++d)
          src += idx[d] * w[3 + rank + d];
        std::memcpy(static_cast<char *>(t.rawData()) + n * elem,
                    aligned + src * elem, elem);
        for (size_t d = rank; d-- > 0;) {
          if (++idx[d] < shape[d])
            break;
          idx[d] = 0;
        }
      }
    }
    results.push_back(std::move(t));
  }
  for (void *p : toFree)
    release(p);
  if (failed.ok())
    failed = checkNumerics(*entry, results);
  if (!failed.ok()) {
    for (auto [r, i] : moved)
      if (args[i].updated)
        *args[i].updated = std::move(results[r]);
    return failed;
  }
  return results;
}

Status Executable::checkNumerics(const EntrySpec &entry,
                                 const std::vector<Tensor> &results) const {
  for (size_t i = 0; i < entry.results.size(); ++i) {
    if (entry.results[i].role != contract::kRoleNumerics)
      continue;
    // The 1-based number of the first failed check; one past the last when
    // every value was finite.
    double first = results[i].data<float>()[0];
    if (!(first >= 1 && first <= static_cast<double>(entry.checks.size())))
      return Status::success();
    const NumericsCheck &c = entry.checks[static_cast<size_t>(first) - 1];
    std::string what = c.part.empty()         ? c.op
                       : c.part == "gradient" ? c.op + " in the gradient of this line"
                                              : c.op + " of the " + c.part;
    return errorAt(c.loc, "check-numerics: ", what,
                   " produced a NaN or an infinity (in ", entry.name, ")");
  }
  return Status::success();
}
