from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.api.views import auth, customers, openings, processes, tasks

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", auth.TokenObtainApi.as_view(), name="api-token"),
    path("account-openings/", openings.AccountOpeningCreateApi.as_view(), name="api-openings"),
    path("account-openings/<int:opening_id>/", openings.AccountOpeningDetailApi.as_view(), name="api-opening"),
    path("tasks/", tasks.TaskListApi.as_view(), name="api-tasks"),
    path("tasks/<int:task_id>/", tasks.TaskDetailApi.as_view(), name="api-task"),
    path("tasks/<int:task_id>/claim/", tasks.TaskClaimApi.as_view(), name="api-task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.TaskUnclaimApi.as_view(), name="api-task-unclaim"),
    path("tasks/<int:task_id>/complete/", tasks.TaskCompleteApi.as_view(), name="api-task-complete"),
    path("customers/", customers.CustomerListApi.as_view(), name="api-customers"),
    path("customers/<int:customer_id>/", customers.CustomerDetailApi.as_view(), name="api-customer"),
    path("customers/<int:customer_id>/collection-card.pdf", customers.CustomerCollectionCardApi.as_view(), name="api-customer-card"),
    path("process-definitions/", processes.ProcessDefinitionListCreateApi.as_view(), name="api-process-definitions"),
    path("process-instances/", processes.ProcessInstanceCreateApi.as_view(), name="api-process-instances"),
]
