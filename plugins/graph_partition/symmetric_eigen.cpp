// SPDX-License-Identifier: Apache-2.0
#include "symmetric_eigen.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cpsd/sdk/error.h"

extern "C" {
// LAPACK (Fortran ABI): the trailing size_t arguments are the hidden lengths of the three
// character arguments, as gfortran passes them.
void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a,
             const int* lda, const double* vl, const double* vu, const int* il, const int* iu,
             const double* abstol, int* m, double* w, double* z, const int* ldz, int* isuppz,
             double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t,
             std::size_t, std::size_t);
}

namespace cpsd::partition {

Eigenpairs smallest_eigenpairs(const Eigen::MatrixXd& a, int count) {
  const int n = static_cast<int>(a.rows());
  count = std::clamp(count, 1, n);
  Eigen::MatrixXd work_matrix = a;  // dsyevr overwrites its input
  const int il = 1, iu = count, lda = n, ldz = n;
  const double vl = 0, vu = 0, abstol = 0;  // abstol 0: LAPACK's default accuracy
  int found = 0, info = 0;
  Eigenpairs out;
  Eigen::VectorXd values(n);
  out.vectors.resize(n, count);
  std::vector<int> isuppz(2 * static_cast<std::size_t>(count));
  // Workspace query, then the call.
  int lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  dsyevr_("V", "I", "L", &n, work_matrix.data(), &lda, &vl, &vu, &il, &iu, &abstol, &found,
          values.data(), out.vectors.data(), &ldz, isuppz.data(), &work_size, &lwork, &iwork_size,
          &liwork, &info, 1, 1, 1);
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
  dsyevr_("V", "I", "L", &n, work_matrix.data(), &lda, &vl, &vu, &il, &iu, &abstol, &found,
          values.data(), out.vectors.data(), &ldz, isuppz.data(), work.data(), &lwork, iwork.data(),
          &liwork, &info, 1, 1, 1);
  if (info != 0 || found != count) {
    throw RuntimeError("eigen-decomposition of the label graph failed (LAPACK dsyevr info " +
                       std::to_string(info) + ", " + std::to_string(found) + " of " +
                       std::to_string(count) + " eigenpairs)");
  }
  out.values = values.head(count);
  return out;
}

}  // namespace cpsd::partition
