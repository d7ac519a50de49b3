# cmake -DAR=ar -DMRI=script.mri -P ar-mri.cmake: runs `ar -M < script.mri`
# (an MRI script that merges archives; see packaging/CMakeLists.txt).
execute_process(COMMAND ${AR} -M INPUT_FILE ${MRI} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AR} -M < ${MRI} failed: ${rc}")
endif()
