from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from backend.web.views import (
    amendments,
    blacklist,
    customers,
    notifications,
    openings,
    processes,
    tasks,
    verify,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", RedirectView.as_view(pattern_name="inbox", permanent=False), name="home"),
    path("inbox/", tasks.inbox, name="inbox"),
    path("tasks/<int:task_id>/", tasks.task_detail, name="task-detail"),
    path("tasks/<int:task_id>/claim/", tasks.claim, name="task-claim"),
    path("tasks/<int:task_id>/unclaim/", tasks.unclaim, name="task-unclaim"),
    path("tasks/<int:task_id>/transfer/", tasks.transfer, name="task-transfer"),
    path("tasks/<int:task_id>/remind/", tasks.remind, name="task-remind"),
    path("notifications/", notifications.notification_list_page, name="notifications"),
    path("notifications/read/", notifications.notifications_read_all, name="notifications-read"),
    path("notifications/<int:notification_id>/read/", notifications.notification_read, name="notification-read"),
    path("customers/", customers.customer_list_page, name="customer-list"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer-detail"),
    path("customers/<int:customer_id>/reveal/", customers.customer_reveal, name="customer-reveal"),
    path("compliance/reveals/", customers.reveal_log_page, name="reveal-log"),
    path("customers/<int:customer_id>/collection-card.pdf", customers.customer_card, name="customer-card"),
    path("openings/new/", openings.opening_new, name="opening-new"),
    path("openings/new/corporate/", openings.opening_corporate, name="opening-corporate"),
    path("customers/<int:customer_id>/amend/", amendments.customer_amend, name="customer-amend"),
    path("customers/<int:customer_id>/freeze/", amendments.customer_freeze_toggle, name="customer-freeze"),
    path("amendments/<int:amendment_id>/", amendments.amendment_detail, name="amendment-detail"),
    path("amendments/<int:amendment_id>/change-request.pdf", amendments.amendment_pdf, name="amendment-pdf"),
    path("blacklist/", blacklist.blacklist_page, name="blacklist"),
    path("blacklist/<int:entry_id>/remove/", blacklist.blacklist_remove, name="blacklist-remove"),
    path("processes/", processes.process_list, name="processes"),
    path("processes/upload/", processes.process_upload, name="process-upload"),
    path("processes/test-instance/", processes.process_test_start, name="process-test-start"),
    path("verify/<str:document_id>", verify.verify_document, name="verify"),
]
